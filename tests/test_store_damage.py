"""Each kind of damage to a stored entry, read without training: one line naming it, then a recompute or a refusal."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from fmnist_report import pipeline
from fmnist_report.config import Config, StudyConfig
from fmnist_report.records import Record
from fmnist_report.store import MODEL_FILE, DamagedEntryError, Store
from fmnist_report.study import executors, runner

from .factories import synthetic_dataset, tiny_record, tiny_spec


def zip_bytes(members: dict[str, bytes]) -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


MODEL = zip_bytes({"config.json": b'{"a": 1}', "model.weights.h5": b"w" * 4000})


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "cache")


def put(store: Store, key: str = "k1", *, model: bytes | None = MODEL) -> Record:
    record = Record("train", key, {"test_accuracy": 0.9}, {"p": np.arange(5.0)}, model=model)
    store.put(record)
    return record


def damage_reason(store: Store, key: str = "k1") -> str:
    with pytest.raises(DamagedEntryError) as caught:
        store.read("train", key)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"cache entry train/{key} is damaged (")
    return message


def test_a_whole_zip_with_one_corrupted_member_fails_its_crc(store):
    put(store)
    path = store.entry("train", "k1") / MODEL_FILE
    blob = bytearray(path.read_bytes())
    at = blob.index(b"w" * 4000) + 2000  # inside the weights, not the headers: still a zip
    blob[at] ^= 0xFF
    path.write_bytes(bytes(blob))
    assert zipfile.is_zipfile(path)
    assert "model.keras: model.weights.h5 fails its CRC check" in damage_reason(store)


def test_a_truncated_model_zip(store):
    put(store)
    path = store.entry("train", "k1") / MODEL_FILE
    path.write_bytes(path.read_bytes()[:100])
    assert "model.keras is not a whole zip file" in damage_reason(store)


def test_a_record_of_another_kind_or_key(store):
    put(store)
    meta_path = store.entry("train", "k1") / "record.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "kind": "figures"}))
    assert "ValueError: record.json belongs to another entry" in damage_reason(store)
    meta_path.write_text(json.dumps({**meta, "key": "k2"}))
    assert "belongs to another entry" in damage_reason(store)


@pytest.mark.parametrize("metrics", [[1, 2], "0.9", None, 3])
def test_metrics_that_are_not_an_object(store, metrics):
    put(store)
    meta_path = store.entry("train", "k1") / "record.json"
    meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), "metrics": metrics}))
    assert "TypeError: record.json holds no metrics" in damage_reason(store)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda e: (e / "record.json").write_text("{trunc"), "JSONDecodeError"),
        (lambda e: (e / "record.json").write_text("[]"), "belongs to another entry"),
        (lambda e: (e / "arrays.npz").write_bytes(b"not a zip"), "ValueError: This file contains pickled"),
        (lambda e: (e / "arrays.npz").write_bytes(b"PK\x03\x04 torn"), "BadZipFile"),
        (lambda e: (e / "arrays.npz").unlink(), "FileNotFoundError"),
        (lambda e: (e / MODEL_FILE).unlink(), "model.keras is missing"),
    ],
)
def test_other_damage_is_named(store, damage, reason):
    put(store)
    damage(store.entry("train", "k1"))
    assert reason in damage_reason(store)


def test_get_warns_once_drops_the_entry_and_returns_none(tmp_path):
    warnings: list[str] = []
    store = Store(tmp_path / "cache", warn=warnings.append)
    put(store)
    (store.entry("train", "k1") / "arrays.npz").write_bytes(b"x")
    assert store.get("train", "k1") is None
    assert len(warnings) == 1 and warnings[0].endswith("; recomputing it")
    assert not store.entry("train", "k1").exists()


# -- what the study makes of a damaged entry ------------------------------------------------------


class Plans(runner.NullReporter):
    def __init__(self) -> None:
        self.planned: list[tuple[int, int]] = []

    def plan(self, specs, cached) -> None:
        self.planned.append((len(specs), len(cached)))


def test_the_plan_counts_a_damaged_entry_as_to_train(store, monkeypatch):
    specs = [tiny_spec(0), tiny_spec(1), tiny_spec(2)]
    for s in specs:
        store.put(tiny_record(s))
    (store.entry("train", specs[1].key) / "arrays.npz").write_bytes(b"x")
    trained: list[int] = []

    def local(todo, data, started, running):
        for s in todo:
            trained.append(s.seed)
            yield tiny_record(s)

    monkeypatch.setattr(executors, "run_local", local)
    reporter = Plans()
    runner.execute(specs, None, store, reporter)
    assert reporter.planned == [(3, 2)]  # 2 cached, 1 to train
    assert trained == [1]


def test_a_command_that_never_trains_refuses_a_damaged_run(tmp_path):
    """render and export read every planned run first (`require_stored`): a damaged one is one line."""
    data = synthetic_dataset(per_class_train=5, per_class_test=2)
    config = Config(study=StudyConfig(profile="quick", seeds=1, epochs=1), out_dir=tmp_path / "out")
    store = Store(config.cache_dir)
    specs = pipeline.plan(config, data, ["cnn"])
    for s in specs:
        store.put(Record("train", s.key, {"x": 1}, {}, model=MODEL))
    (store.entry("train", specs[0].key) / MODEL_FILE).write_bytes(b"PK\x03\x04 torn")
    with pytest.raises(runner.NotBuiltError) as caught:
        runner.require_stored(config, data, store, ["cnn"])
    message = str(caught.value)
    assert "\n" not in message and f"cache entry train/{specs[0].key} is damaged" in message
    assert "(CNN 3x3, seed 0)" in message and "build" in message
    assert store.entry("train", specs[0].key).exists()  # left for build to train again


def test_render_of_a_store_trained_on_another_backend_names_it(tmp_path):
    data = synthetic_dataset(per_class_train=5, per_class_test=2)
    config = Config(study=StudyConfig(profile="quick", seeds=1, epochs=1), out_dir=tmp_path / "out")
    store = Store(config.cache_dir)
    with pytest.raises(runner.NotBuiltError, match=r"run `fmnist-report build` with the same options first$"):
        runner.require_stored(config, data, store, ["cnn"])
    store.put(Record("train", "jax-key", {"platform": {"backend": "jax", "device": "cpu"}}, {}))
    with pytest.raises(runner.NotBuiltError) as caught:
        runner.require_stored(config, data, store, ["cnn"])
    assert str(caught.value).endswith(
        "the stored runs were trained with jax, and this process runs tensorflow; "
        "pass --backend jax (the backend is part of every run's key)"
    )


def test_render_of_a_store_trained_under_another_onednn_cap_names_it(tmp_path, monkeypatch):
    """A capped build (ONEDNN_MAX_CPU_ISA, the float32 class on any CPU) keys its runs by the cap."""
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    data = synthetic_dataset(per_class_train=5, per_class_test=2)
    config = Config(study=StudyConfig(profile="quick", seeds=1, epochs=1), out_dir=tmp_path / "out")
    store = Store(config.cache_dir)
    store.put(
        Record("train", "capped-key", {"platform": {"backend": "tensorflow"}, "onednn_isa": "AVX2"}, {})
    )
    with pytest.raises(runner.NotBuiltError) as caught:
        runner.require_stored(config, data, store, ["cnn"])
    assert str(caught.value).endswith(
        "the stored runs were trained with oneDNN capped at AVX2, and this process runs it uncapped; "
        "set ONEDNN_MAX_CPU_ISA=AVX2 (the cap is part of every run's key)"
    )
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")  # the same cap: the runs are simply not there
    with pytest.raises(runner.NotBuiltError, match=r"run `fmnist-report build` with the same options first$"):
        runner.require_stored(config, data, store, ["cnn"])
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE")
    with pytest.raises(
        runner.NotBuiltError, match=r"runs it capped at AVX512_CORE; set ONEDNN_MAX_CPU_ISA=AVX2 "
    ):
        runner.require_stored(config, data, store, ["cnn"])
