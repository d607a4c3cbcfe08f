"""The Ray cluster a build trains on: addresses checked before anything connects, a local cluster
on loopback only, and a cluster lost mid-build in one line that keeps the finished runs."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket

import pytest

from fmnist_report.errors import ConfigError
from fmnist_report.store import Store
from fmnist_report.study import executors, ray_cluster, runner

from .test_executors import run, spec


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1:99999", "the port must be a whole number from 1 to 65535, not '99999'"),
        ("127.0.0.1:0", "the port must be a whole number from 1 to 65535, not '0'"),
        ("head:", "the port must be a whole number from 1 to 65535, not ''"),
        ("head:63x9", "the port must be a whole number from 1 to 65535, not '63x9'"),
        (":6379", "it names no host"),
        ("[::1]x", "it names no host"),
        (
            "http://head:8265",
            "Ray takes HOST:PORT, or ray://HOST:PORT for Ray Client, without another scheme",
        ),
    ],
)
def test_a_malformed_address_is_one_line_before_anything_connects(fake_ray, monkeypatch, address, why):
    def connect(*args, **kwargs):
        raise AssertionError("a malformed address was connected to")

    monkeypatch.setattr(socket, "create_connection", connect)
    ray = fake_ray()
    with pytest.raises(ConfigError) as caught:
        executors.check_executor("ray", ray_address=address)  # what the CLI asks before the data loads
    message = str(caught.value)
    assert message.startswith(f"--ray-address {address} is not an address ({why}")
    assert message.endswith("give HOST:PORT, e.g. 127.0.0.1:6379, or leave it out to start a local cluster")
    with pytest.raises(ConfigError, match="is not an address"):
        run([spec(0)], address=address)
    assert ray.inits == []


def test_well_formed_addresses_and_their_default_ports():
    parse = ray_cluster.parse_address
    assert parse("10.0.0.5:6380") == ("", "10.0.0.5", 6380)
    assert parse("head") == ("", "head", 6379)
    assert parse("ray://head") == ("ray://", "head", 10001)
    assert parse("ray://head:10002") == ("ray://", "head", 10002)
    assert parse("[::1]:6379") == ("", "::1", 6379)
    assert parse("::1") == ("", "::1", 6379)
    executors.check_executor("ray", ray_address="auto")
    executors.check_executor("local", ray_address="127.0.0.1:99999")  # not used: not checked


def test_a_local_cluster_is_asked_for_on_loopback_alone(fake_ray, monkeypatch):
    monkeypatch.delenv(ray_cluster.LOOPBACK_ENV, raising=False)
    ray = fake_ray()
    run([spec(0)])
    (options,) = ray.inits
    assert options["address"] == "local"  # a cluster of its own, never one found on this machine
    assert options["_node_ip_address"] == "127.0.0.1" and options["include_dashboard"] is False
    assert options["dashboard_host"] == "127.0.0.1"
    assert ray.env_at_init == ["0"]  # Ray's single-machine mode while it starts
    assert ray_cluster.LOOPBACK_ENV not in os.environ  # and as it was after
    run([spec(0)], address="auto")  # a cluster of the user's: joined as it is
    assert ray.inits[-1]["address"] == "auto" and "_node_ip_address" not in ray.inits[-1]
    assert ray.env_at_init[-1] is None


def test_a_local_cluster_that_came_up_off_loopback_is_stopped(fake_ray):
    ray = fake_ray(node_ip="192.0.2.2")
    with pytest.raises(ConfigError, match=r"^the local Ray cluster came up on 192\.0\.2\.2, not on loopback"):
        run([spec(0)])
    assert ray.shut_down


def test_a_lost_head_is_one_line_that_keeps_the_finished_runs(fake_ray, monkeypatch, tmp_path):
    """The trial's case: the head killed mid-run. Ray would end the process after 60 s with a
    line of its C++ log; the driver notices first and says what is kept and how to go on."""
    monkeypatch.setattr(ray_cluster, "LOST_AFTER_S", 0.0)
    store = Store(tmp_path / "cache")
    specs = [spec(0), spec(1), spec(2)]
    with socket.socket() as head:
        head.bind(("127.0.0.1", 0))
        head.listen()
        address = f"127.0.0.1:{head.getsockname()[1]}"
        ray = fake_ray(hang_after=1, gcs=address)
        ray.on_return = head.close  # the head dies as the first run comes back
        with pytest.raises(ray_cluster.ClusterLost) as caught:
            runner.execute(specs, None, store, executor="ray")
    assert str(caught.value) == (
        "lost the local Ray cluster this command started (its head stopped answering) after 1 of 3 "
        "training runs; the finished runs are kept in the store: run the same command again to resume"
    )
    assert [s.seed for s in specs if store.has("train", s.key)] == [0]
    assert ray.cancelled == [1, 2] and ray.shut_down


def test_a_silent_raylet_is_a_lost_cluster_before_ray_ends_the_process(fake_ray, monkeypatch):
    """Without this machine's raylet Ray ends the driver within seconds, a line of its C++ log
    last: the driver watches it as it watches the head."""
    monkeypatch.setattr(ray_cluster, "LOST_AFTER_S", 0.0)
    with socket.socket() as head, socket.socket() as raylet:
        for server in (head, raylet):
            server.bind(("127.0.0.1", 0))
            server.listen()
        ray = fake_ray(hang_after=1, gcs=f"127.0.0.1:{head.getsockname()[1]}", raylet=raylet.getsockname())
        ray.on_return = raylet.close
        with pytest.raises(
            ray_cluster.ClusterLost, match=r"\(the raylet on this machine stopped answering\)"
        ):
            run([spec(0), spec(1)])
    assert ray.cancelled == [1] and ray.shut_down


def test_a_dead_raylet_is_a_lost_cluster_not_a_failed_run(fake_ray):
    ray = fake_ray(raylet_dies={1})
    with pytest.raises(ray_cluster.ClusterLost, match=r"\(the raylet on this machine died\) after 1 of 3"):
        run([spec(0), spec(1), spec(2)])
    assert ray.cancelled == [2] and ray.shut_down
    message = str(ray_cluster.lost("10.0.0.5:6379", "its head stopped answering", 2, 14))
    assert message.endswith("once the cluster is back, run the same command again to resume")


def on_loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip)
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1, IPv4 on an IPv6 socket
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


@pytest.mark.parametrize("address", [None, "local"], ids=["no-address", "ray-address-local"])
def test_a_local_cluster_started_for_a_build_listens_on_loopback_only(address):
    """Ray has no authentication by default: every socket the cluster's processes listen on
    (the GCS, the raylet, the agents, a worker) must be bound to a loopback address, also where
    the user asked for Ray's own ``--ray-address local``."""
    ray = pytest.importorskip("ray")
    import psutil

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    ray_cluster.join_cluster(ray, address)
    try:
        assert ray.get(ray.remote(lambda: 1).remote()) == 1  # a worker process starts too
        bound = []
        for process in psutil.Process().children(recursive=True):
            if process.pid in before:
                continue
            with contextlib.suppress(psutil.Error):
                for conn in process.net_connections(kind="inet"):
                    if conn.status == psutil.CONN_LISTEN or conn.type == socket.SOCK_DGRAM:
                        bound.append((process.name(), conn.laddr.ip, conn.laddr.port))
        assert any(name == "gcs_server" for name, _, _ in bound), bound
        assert [entry for entry in bound if not on_loopback(entry[1])] == []
    finally:
        ray.shutdown()
