"""The Ray cluster a build trains on: its address, its start on this machine, its loss.

`executors.run_ray` sends the runs; this module joins the cluster (or starts one that listens
on loopback only, since Ray has no authentication by default), checks an address before
anything connects, and words the one line for a cluster that goes away mid-build.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import socket
from collections.abc import Iterator
from typing import Any, TypedDict

from fmnist_report.errors import ConfigError, UserError

#: Seconds to wait for a cluster's address to accept a connection before giving up.
REACH_TIMEOUT_S = 10.0
#: Seconds the cluster's head may refuse connections before the build stops with one line.
#: Ray itself ends the process after 60 s without its head, with a line of its C++ log.
LOST_AFTER_S = 5.0
#: The ports Ray listens on when an address names none: the GCS, and the Ray Client server.
DEFAULT_PORTS = {"": 6379, "ray://": 10001}


class RayOptions(TypedDict, total=False):
    """The arguments of ``ray.init`` that a build sets."""

    address: str
    include_dashboard: bool
    log_to_driver: bool
    configure_logging: bool
    logging_level: int
    _node_ip_address: str
    dashboard_host: str


#: Ray's switch between a single-machine instance on loopback (``0``: as on macOS and Windows)
#: and one other machines may join: a cluster started here for a build is the former.
LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


class ClusterLost(UserError):
    """The Ray cluster stopped answering while runs were training."""


def lost(address: str | None, why: str, finished: int, total: int) -> ClusterLost:
    """The one line for a cluster that went away mid-build: what is kept, and how to go on."""
    where = f"the Ray cluster at {address}" if address else "the local Ray cluster this command started"
    when = "once the cluster is back, " if address else ""
    return ClusterLost(
        f"lost {where} ({why}) after {finished} of {total} training runs; the finished runs are "
        f"kept in the store: {when}run the same command again to resume"
    )


def answers(head: tuple[str, int], timeout: float = 1.0) -> bool:
    """Whether ``head`` (host, port) accepts a connection within ``timeout``."""
    try:
        socket.create_connection(head, timeout=timeout).close()
    except OSError:
        return False
    return True


#: What a silent watched address means (`watched`).
HEAD, RAYLET = "its head stopped answering", "the raylet on this machine stopped answering"


def watched(ray: Any, address: str | None) -> dict[tuple[str, int], str]:
    """The addresses (host, port) that must keep answering while runs train, each with what its
    silence means: the head's GCS and this machine's raylet (without which Ray ends this process
    within seconds, with a line of its C++ log), or the Ray Client server for a ``ray://``
    address. Empty where Ray does not say (nothing is then watched)."""
    if address and address.startswith("ray://"):
        _, host, port = parse_address(address)
        return {(host, port): HEAD}
    try:
        context = ray.get_runtime_context()
        gcs, node = str(context.gcs_address), context.get_node_id()
        nodes = ray.nodes()
    except (AttributeError, RuntimeError):
        return {}
    found: dict[tuple[str, int], str] = {}
    gcs_host, _, gcs_port = gcs.rpartition(":")
    if gcs_host and gcs_port.isdigit():
        found[gcs_host.strip("[]"), int(gcs_port)] = HEAD
    for one in nodes:
        if one.get("NodeID") == node and one.get("NodeManagerPort"):
            found[str(one["NodeManagerAddress"]).strip("[]"), int(one["NodeManagerPort"])] = RAYLET
    return found


def join_cluster(ray: Any, address: str | None) -> None:
    """Join the cluster at ``address``, or start one on this machine that listens on loopback only.

    Ray has no authentication by default, so a cluster started for a build must not be reachable
    from the network: Ray's single-machine mode (`LOOPBACK_ENV`, as on macOS and Windows) binds
    every server of its own to 127.0.0.1, and the started node's address is checked after.
    """
    if address == "local":  # Ray's own word for a new cluster here: started as ours, on loopback
        address = None
    check_reachable(address)
    # Ray's C++ core logs each failed connection attempt to stderr; errors alone are news.
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "error")
    options: RayOptions = {
        "include_dashboard": False,
        "log_to_driver": False,
        "configure_logging": True,
        "logging_level": logging.ERROR,  # no banner of the cluster's address, dashboard or token
    }
    if address:
        options["address"] = address
    else:  # "local": always a cluster of its own, never one found on this machine
        options.update({"address": "local", "_node_ip_address": "127.0.0.1", "dashboard_host": "127.0.0.1"})
    try:
        with contextlib.nullcontext() if address else _single_machine(ray):
            ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(
            f"cannot join the Ray cluster at {address or 'a new local cluster'} ({first}); "
            "check --ray-address and that the cluster runs this Ray version"
        ) from None
    if not address:
        node = ray.util.get_node_ip_address()
        if not is_loopback(node):
            ray.shutdown()
            raise ConfigError(
                f"the local Ray cluster came up on {node}, not on loopback only, and Ray has no "
                "authentication by default; it was stopped: pass --ray-address of a cluster you run, "
                "or use --executor local"
            )


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (``::ffff:127.0.0.1``, IPv4 in IPv6, too)."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host == "localhost"
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


@contextlib.contextmanager
def _single_machine(ray: Any) -> Iterator[None]:
    """Ray's single-machine mode while a local cluster starts: for the processes it starts (the
    variable) and for this one, should Ray have been imported before it was set (its constant)."""
    constants = getattr(getattr(ray, "_private", None), "ray_constants", None)
    before = os.environ.get(LOOPBACK_ENV), getattr(constants, "ENABLE_RAY_CLUSTER", None)
    os.environ[LOOPBACK_ENV] = "0"
    if constants is not None and before[1] is not None:
        constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        if before[0] is None:
            os.environ.pop(LOOPBACK_ENV, None)
        else:
            os.environ[LOOPBACK_ENV] = before[0]
        if constants is not None and before[1] is not None:
            constants.ENABLE_RAY_CLUSTER = before[1]


def parse_address(address: str) -> tuple[str, str, int]:
    """``[ray://]HOST[:PORT]`` as its scheme, host and port (Ray's default where it names none).

    A ConfigError says in one line what is wrong, before anything connects.
    """
    scheme = "ray://" if address.startswith("ray://") else ""
    rest, port = address.removeprefix(scheme), ""
    explicit = False
    if rest.startswith("["):  # [IPv6]:PORT
        host, _, tail = rest[1:].partition("]")
        explicit, port = tail.startswith(":"), tail[1:]
        if tail and not explicit:
            host = ""
    elif rest.count(":") == 1:
        host, port = rest.split(":")
        explicit = True
    else:  # no port, or an IPv6 address without one
        host = rest
    why = ""
    if "://" in rest or "/" in rest or any(c.isspace() for c in rest):
        why = "Ray takes HOST:PORT, or ray://HOST:PORT for Ray Client, without another scheme or a path"
    elif not host:
        why = "it names no host"
    elif explicit and not (port.isdigit() and 1 <= int(port) <= 65535):
        why = f"the port must be a whole number from 1 to 65535, not {port!r}"
    if why:
        raise ConfigError(
            f"--ray-address {address} is not an address ({why}); give HOST:PORT, "
            "e.g. 127.0.0.1:6379, or leave it out to start a local cluster"
        )
    return scheme, host, int(port) if explicit else DEFAULT_PORTS[scheme]


def check_reachable(address: str | None, timeout: float = REACH_TIMEOUT_S) -> None:
    """Refuse, in one line, a cluster address that is malformed or accepts no connection within
    ``timeout``.

    Ray itself would retry for minutes, printing a warning at each attempt. ``None`` and
    ``auto`` (a local or already running cluster) are Ray's to resolve.
    """
    if not address or address in ("auto", "local"):
        return
    _, host, port = parse_address(address)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__)
        raise ConfigError(
            f"cannot reach the Ray cluster at {address} ({host}:{port}: {reason} within {timeout:g} s); "
            "check --ray-address, or leave it out to start a local cluster"
        ) from None
