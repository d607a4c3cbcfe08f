"""A stand-in for the `ray` module: what the Ray executor uses of it, with failures on demand."""

from __future__ import annotations

import os
import types

from fmnist_report.records import Record
from fmnist_report.study import ray_cluster
from fmnist_report.study.training import RunSpec

from .factories import tiny_record, tiny_spec

spec, record_of = tiny_spec, tiny_record


class RayError(Exception):
    pass


class LocalRayletDiedError(RayError):
    pass


class FakeRay(types.ModuleType):
    """What `run_ray` uses of Ray: tasks run at once and finish in order; ``fail`` seeds raise,
    ``raylet_dies`` seeds raise as when this machine's raylet died; after ``hang_after`` results
    nothing finishes any more, as when the cluster is gone; ``gcs`` is the head's address and
    ``raylet`` this machine's raylet's."""

    def __init__(
        self,
        *,
        fail: set[int] = frozenset(),
        interrupt_after: int | None = None,
        raylet_dies: set[int] = frozenset(),
        hang_after: int | None = None,
        gcs: str | None = None,
        raylet: tuple[str, int] | None = None,
        node_ip: str = "127.0.0.1",
    ) -> None:
        super().__init__("ray")
        self.exceptions = types.SimpleNamespace(RayError=RayError, LocalRayletDiedError=LocalRayletDiedError)
        self.util = types.SimpleNamespace(get_node_ip_address=lambda: node_ip)
        self.fail, self.interrupt_after, self.raylet_dies = fail, interrupt_after, raylet_dies
        self.hang_after, self.gcs, self.raylet = hang_after, gcs, raylet
        self.inits: list[dict] = []
        self.env_at_init: list[str | None] = []
        self.cancelled: list[int] = []
        self.waits: list[float | None] = []
        self.returned = 0
        self.shut_down = False
        self._initialized = False
        self.on_return = lambda: None

    def is_initialized(self) -> bool:
        return self._initialized

    def init(self, **kwargs) -> None:
        self.inits.append(kwargs)
        self.env_at_init.append(os.environ.get(ray_cluster.LOOPBACK_ENV))
        self._initialized = True

    def get_runtime_context(self):
        if self.gcs is None:
            raise AttributeError("get_runtime_context")
        return types.SimpleNamespace(gcs_address=self.gcs, get_node_id=lambda: "this-node")

    def nodes(self) -> list[dict]:
        other = {"NodeID": "other-node", "NodeManagerAddress": "192.0.2.9", "NodeManagerPort": 1}
        if self.raylet is None:
            return [other]
        host, port = self.raylet
        return [other, {"NodeID": "this-node", "NodeManagerAddress": host, "NodeManagerPort": port}]

    def shutdown(self) -> None:
        self.shut_down, self._initialized = True, False

    def put(self, value):
        return value

    def remote(self, fn):
        ray = self

        class Task:
            def options(self, **kwargs):
                ray.options = kwargs
                return self

            def remote(self, s: RunSpec, data, backend: str) -> int:
                return s.seed

        return Task()

    def wait(self, refs, num_returns, timeout=None):
        self.waits.append(timeout)
        if self.interrupt_after is not None and self.returned >= self.interrupt_after:
            raise KeyboardInterrupt
        if self.hang_after is not None and self.returned >= self.hang_after:
            assert len(self.waits) < 100, "the driver waited on a lost cluster forever"
            return [], list(refs)
        if len(self.waits) % 2:  # every other wait times out, as a long run would
            return [], list(refs)
        return [min(refs)], [r for r in refs if r != min(refs)]

    def get(self, ref: int) -> Record:
        if ref in self.fail:
            raise RayError(f"Traceback...\nValueError: seed {ref} diverged")
        if ref in self.raylet_dies:
            raise LocalRayletDiedError("The task's local raylet died. Check raylet.out for more information.")
        self.returned += 1
        self.on_return()
        return record_of(spec(ref))

    def cancel(self, ref: int, force: bool = False) -> None:
        assert force
        self.cancelled.append(ref)
