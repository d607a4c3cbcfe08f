"""A student's own variants: declarations read against the vocabulary, and where a variant goes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fmnist_report import ids, models
from fmnist_report.config import Config, StudyConfig, load_config
from fmnist_report.errors import ConfigError
from fmnist_report.ids import ModelId
from fmnist_report.study import design
from fmnist_report.study.plan import plan
from fmnist_report.variants import VOCABULARY, Variant, default_name, parse_variants, vocabulary_rows

from .factories import needs_pango, synthetic_dataset

EXAMPLE = """
[[variants]]
name = "dropout"
base = "cnn"
dropout = 0.3

[[variants]]
base = "cnn"
batch_norm = true

[[variants]]
base = "dense"
dense_units = [64]
"""


@pytest.fixture(autouse=True)
def _no_default_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # so report/report.toml of the checkout is not picked up


def settings(tmp_path, text: str):
    path = tmp_path / "r.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_variants_are_read_with_default_names_from_their_overrides(tmp_path):
    cfg = load_config(settings(tmp_path, EXAMPLE))
    names = [v.name for v in cfg.study.variants]
    assert names == ["dropout", "batch_norm=true", "dense_units=64"]
    assert cfg.study.variants[0] == Variant("dropout", "cnn", (("dropout", 0.3),))
    assert cfg.study.variants[2].overrides == (("dense_units", (64,)),)


def test_a_default_name_lists_overrides_in_vocabulary_order():
    assert default_name([("filters", (16, 32)), ("dropout", 0.25), ("batch_norm", False)]) == (
        "filters=16x32,dropout=0.25,batch_norm=false"
    )


BAD = [
    (
        "[[variants]]\nbase = 'cnn'\ndropot = 0.3\n",
        r"\[\[variants\]\] #1: unknown key dropot; known keys are name, base",
    ),
    ("[[variants]]\ndropout = 0.3\n", r"base must be one of cnn, dense, got None"),
    ("[[variants]]\nbase = 'resnet'\ndropout = 0.3\n", r"base must be one of cnn, dense, got 'resnet'"),
    ("[[variants]]\nbase = 'cnn'\ndropout = 1.5\n", r"dropout must be a number from 0 to 0.9, got 1.5"),
    ("[[variants]]\nbase = 'cnn'\ndropout = '0.3'\n", r"dropout must be a number from 0 to 0.9, got '0.3'"),
    (
        "[[variants]]\nbase = 'cnn'\nkernel_size = 4\n",
        r"kernel_size must be an odd integer from 1 to 13, got 4",
    ),
    (
        "[[variants]]\nbase = 'cnn'\nfilters = [16, 32, 64, 128, 256]\n",
        r"filters must be a list of 1 to 4 integers",
    ),
    (
        "[[variants]]\nbase = 'cnn'\nfilters = []\n",
        r"filters must be a list of 1 to 4 integers from 1 to 512",
    ),
    ("[[variants]]\nbase = 'cnn'\npooling = 'min'\n", r"pooling must be one of avg, max, got 'min'"),
    ("[[variants]]\nbase = 'cnn'\noptimizer = 'rmsprop'\n", r"optimizer must be one of adam, adamw, sgd"),
    ("[[variants]]\nbase = 'cnn'\nbatch_norm = 1\n", r"batch_norm must be true or false, got 1"),
    ("[[variants]]\nbase = 'cnn'\naugment = 9\n", r"augment must be an integer from 0 to 4, got 9"),
    ("[[variants]]\nbase = 'dense'\nkernel_size = 5\n", r"kernel_size does not apply to base 'dense'"),
    (
        "[[variants]]\nbase = 'cnn'\npooling = 'max'\n",
        r"pooling = 'max' is what the cnn base already has, so it changes nothing",
    ),
    (
        "[[variants]]\nbase = 'cnn'\nlearning_rate = 0.001\n",
        r"learning_rate = 0.001 is what the cnn base already has",
    ),
    (
        "[[variants]]\nbase = 'cnn'\n",
        r"declares no override, so it would train the built-in model cnn3 \(CNN 3x3\) again",
    ),
    (
        "[[variants]]\nname = 'cnn5'\nbase = 'cnn'\ndropout = 0.2\n",
        r"name 'cnn5' is a built-in model of the study",
    ),
    (
        "[[variants]]\nname = 'a b'\nbase = 'cnn'\ndropout = 0.2\n",
        r"name must be a name of at most 40 letters",
    ),
    (
        "[[variants]]\nname = 'x'\nbase = 'cnn'\ndropout = 0.2\n[[variants]]\nname = 'x'\nbase = 'cnn'\ndropout = 0.4\n",
        r"\[\[variants\]\] #2 \(x\): name 'x' is already used by \[\[variants\]\] #1",
    ),
    (
        "[[variants]]\nbase = 'cnn'\ndropout = 0.2\n[[variants]]\nname = 'y'\nbase = 'cnn'\ndropout = 0.2\n",
        r"declares the same model as \[\[variants\]\] #1 \(dropout=0.2\)",
    ),
    ("variants = 3\n", r"variants must be an array of tables, got 3"),
    ("[variants]\nbase = 'cnn'\n", r"variants must be an array of tables"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_every_mistake_is_one_line_naming_the_table_key_allowed_values(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message) as raised:
        load_config(settings(tmp_path, text))
    assert "\n" not in str(raised.value) and str(tmp_path / "r.toml") in str(raised.value)


def test_too_many_variants_are_refused():
    tables = [{"base": "cnn", "dropout": round(0.05 * (i + 1), 2)} for i in range(13)]
    with pytest.raises(ConfigError, match="13 variants declared, at most 12"):
        parse_variants(tables, "r.toml", learning_rate=1e-3, kernel_sizes=(3, 5, 7))


def test_the_cli_refuses_a_bad_declaration_in_one_line_before_loading_data(tmp_path):
    path = settings(tmp_path, "[[variants]]\nbase = 'cnn'\ndropout = 2\n")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from fmnist_report.cli import main; main()",
            "run",
            "--config",
            str(path),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "dropout must be a number from 0 to 0.9, got 2" in lines[0]
    assert not (tmp_path / "o" / "cache").exists()  # nothing was loaded or trained


def test_the_vocabulary_lists_every_key_with_its_bounds():
    rows = {r["key"]: r for r in vocabulary_rows()}
    assert set(rows) == set(VOCABULARY)
    assert rows["dropout"]["allowed"] == "a number from 0 to 0.9"
    assert rows["kernel_size"]["bases"] == "cnn 3"
    assert rows["learning_rate"]["bases"] == "cnn, dense (the study's learning_rate)"


# -- ids, declarations, plan and roles ------------------------------------------------------------


def test_a_variant_id_round_trips_and_keeps_its_base():
    mid = ModelId.parse("cnn3[dropout=0.3,filters=16x32]")
    assert (mid.arch, mid.kernel_size, mid.variant) == ("cnn", 3, "dropout=0.3,filters=16x32")
    assert str(mid) == "cnn3[dropout=0.3,filters=16x32]" and mid.base() == ids.cnn(3)
    assert mid.label == "CNN 3x3 [dropout=0.3,filters=16x32]"
    assert ids.is_builtin("cnn7-permuted") and not ids.is_builtin(str(mid))
    with pytest.raises(ValueError, match="not a model id"):
        ModelId.parse("cnn3[a[b]]")


def study_with(*variants: Variant, seeds: int = 2) -> StudyConfig:
    return StudyConfig(profile="quick", epochs=1, seeds=seeds, variants=variants)


DROPOUT = Variant("dropout", "cnn", (("dropout", 0.3),))
WIDE = Variant("wide", "dense", (("dense_units", (512,)),))


def test_plan_trains_each_variant_on_every_seed_after_the_builtin_models():
    data = synthetic_dataset(5, 2)
    specs = plan(Config(study=study_with(DROPOUT, WIDE)), data)
    ids_by_seed = [(s.model_id, s.seed) for s in specs]
    assert ids_by_seed[:6] == [
        ("dense", 0),
        ("cnn3", 0),
        ("cnn5", 0),
        ("cnn7", 0),
        ("cnn3[dropout]", 0),
        ("dense[wide]", 0),
    ]
    assert ("cnn3[dropout]", 1) in ids_by_seed and ids_by_seed[-2:] == [
        ("dense-permuted", 0),
        ("cnn3-permuted", 0),
    ]
    only = plan(Config(study=study_with(DROPOUT, WIDE)), data, ["variants"])
    # The variants alone, with the bases they are compared with.
    assert [s.model_id for s in only] == ["dense", "cnn3", "cnn3[dropout]", "dense[wide]"] * 2


def test_builtin_runs_keep_their_cache_keys_and_variants_get_their_own():
    data = synthetic_dataset(5, 2)
    plain = {s.key: s for s in plan(Config(study=study_with()), data)}
    declared = {s.key: s for s in plan(Config(study=study_with(DROPOUT)), data)}
    assert set(plain) < set(declared)
    for spec in plain.values():
        assert "variant" not in spec.params() and "overrides" not in spec.params()
    (extra,) = {k: s for k, s in declared.items() if k not in plain and s.seed == 0}.values()
    assert extra.params()["overrides"] == [["dropout", 0.3]] and extra.variant == "dropout"
    assert type(extra)(**extra.params()).key == extra.key  # read back from a record: same key


def test_a_3x3_variant_never_replaces_the_headline_cnn():
    roles = design.roles(study_with(DROPOUT), {"dense", "cnn3", "cnn5", "cnn3[dropout]"})
    assert roles.headline == "cnn3" and roles.probe == "cnn3"
    assert roles.cnns == {3: "cnn3", 5: "cnn5"}
    assert roles.variants == {"cnn3[dropout]": "cnn3"}
    alone = design.roles(study_with(DROPOUT), {"cnn3[dropout]"})
    assert alone.headline is None and alone.variants == {}  # its base did not run: nothing to compare


def test_the_variants_family_pairs_each_variant_with_its_base():
    roles = design.roles(study_with(DROPOUT, WIDE), {"dense", "cnn3", "cnn3[dropout]", "dense[wide]"})
    (family,) = [f for f in design.FAMILIES if f.name == "variants"]
    assert family.pairs(roles) == [("cnn3", "cnn3[dropout]"), ("dense", "dense[wide]")]


# -- builders ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "overrides", "params"),
    [
        ("cnn", (), 421_642),
        ("dense", (), 235_146),
        ("cnn", (("filters", (16, 32)),), 206_922),
        ("cnn", (("filters", (8, 16, 32, 64)),), 33_994),
        ("cnn", (("dense_units", (64,)),), 421_642 - (3136 * 128 + 128) - 1290 + (3136 * 64 + 64) + 650),
        ("dense", (("dense_units", (64,)),), 784 * 64 + 64 + 650),
    ],
)
def test_builders_lay_out_the_declared_architecture(base, overrides, params):
    model = models.build(base, 3 if base == "cnn" else None, overrides)
    assert model.count_params() == params
    names = [layer.name for layer in model.layers]
    assert names[-1] == models.OUTPUT_LAYER and "flatten" in names


def test_every_override_builds_and_keeps_the_interface_names():
    shaped = (
        ("kernel_size", 5),
        ("batch_norm", True),
        ("dropout", 0.3),
        ("stage_dropout", 0.1),
        ("pooling", "avg"),
        ("activation", "gelu"),
    )
    model = models.build("cnn", 3, shaped)
    names = {layer.name for layer in model.layers}
    assert {"conv1", "pool1", "conv2", "pool2", "flatten", "dense_128", "probabilities"} <= names
    assert {"conv1_bn", "head_dropout", "pool2_dropout"} <= names
    assert model.get_layer("conv1").kernel_size == (5, 5)
    assert type(model.get_layer("pool1")).__name__ == "AveragePooling2D"


def test_weight_decay_puts_an_l2_penalty_on_every_kernel_and_none_by_default():
    plain = models.build("cnn", 3)
    assert all(getattr(layer, "kernel_regularizer", None) is None for layer in plain.layers)
    decayed = models.build("cnn", 3, (("weight_decay", 1e-4),))
    penalised = [
        layer.name for layer in decayed.layers if getattr(layer, "kernel_regularizer", None) is not None
    ]
    assert penalised == ["conv1", "conv2", "dense_128"]
    assert decayed.count_params() == plain.count_params()
    assert len(decayed.losses) == 3  # one penalty term per kernel, added to the training loss


def test_the_build_says_how_many_runs_the_variants_add_and_their_share_of_the_estimate(monkeypatch):
    from fmnist_report.study import calibration, clock
    from fmnist_report.study.runner import variants_line

    data = synthetic_dataset(5, 2)
    cfg = Config(study=study_with(Variant("half", "cnn", (("filters", (16, 32)),)), seeds=2))
    specs = plan(cfg, data)
    assert variants_line(specs, set()) == "the variants add 2 of these runs (2 to train)"
    done = {s.key for s in specs if s.variant}
    assert variants_line(specs, done) == "the variants add 2 of these runs (0 to train)"
    assert variants_line([s for s in specs if not s.variant], set()) == ""
    # A declared variant has a rate of its own: the calibration times its own network.
    assert {clock.architecture(s) for s in specs if s.variant} == {"cnn3[half]"}
    per_run = {s.key: (30.0 if s.variant else 60.0) for s in specs}
    monkeypatch.setattr(
        calibration, "estimate", lambda *a, **k: calibration.Estimate(per_run, 480.0, "stored runs")
    )
    said: list[str] = []
    reporter = type("R", (), {"expect": lambda self, e: None, "info": lambda self, m: said.append(m)})()
    calibration.announce(cfg, data, None, reporter, parts=None, fresh=False, jobs=1)
    assert said == [
        f"estimate: {len(specs)} training runs, about 8 min on this machine (from stored runs); the variants' "
        "2 runs about 60 s of it, then the analyses and the report"
    ]


def test_shifts_move_each_image_by_whole_pixels_and_repeat_for_a_seed():
    import numpy as np

    from fmnist_report.study import augment, training

    images = np.zeros((50, 28, 28), dtype=np.uint8)
    images[:, 10:18, 10:18] = 255
    moved = augment.shift_images(images, 2, np.random.default_rng(0))
    assert moved.shape == images.shape and moved.dtype == images.dtype
    assert (moved.sum(axis=(1, 2)) == images.sum(axis=(1, 2))).all()  # the square stays whole inside
    rows = [int(np.flatnonzero(m.any(axis=1))[0]) - 10 for m in moved]
    assert set(rows) <= {-2, -1, 0, 1, 2} and len(set(rows)) > 1
    spec = training.spec_for(
        StudyConfig(epochs=2),
        synthetic_dataset(2, 1),
        "cnn",
        0,
        kernel_size=3,
        variant="shift",
        overrides=(("augment", 2),),
    )
    order = np.arange(50)
    first, _ = training.epoch_arrays(images, order, order, 0, spec)
    again, _ = training.epoch_arrays(images, order, order, 0, spec)
    later, _ = training.epoch_arrays(images, order, order, 1, spec)
    assert np.array_equal(first, again) and not np.array_equal(first, later)
    plain = training.spec_for(StudyConfig(epochs=2), synthetic_dataset(2, 1), "cnn", 0, kernel_size=3)
    assert np.array_equal(training.epoch_arrays(images, order, order, 0, plain)[0], images)


def test_a_variant_with_every_training_override_trains_and_repeats_exactly():
    import dataclasses

    import numpy as np

    from fmnist_report.study import training

    data = synthetic_dataset(6, 2)
    overrides = (
        ("filters", (8, 16)),
        ("dense_units", (32,)),
        ("stage_dropout", 0.1),
        ("batch_norm", True),
        ("optimizer", "sgd"),
        ("learning_rate", 0.05),
        ("augment", 1),
        ("weight_decay", 1e-4),
        ("label_smoothing", 0.1),
    )
    spec = training.spec_for(
        StudyConfig(epochs=1, batch_size=16),
        data,
        "cnn",
        0,
        kernel_size=3,
        variant="all",
        overrides=overrides,
    )
    first, again = training.train(spec, data), training.train(spec, data)
    assert first.metrics["model_id"] == "cnn3[all]" and first.metrics["spec"]["overrides"][0] == [
        "filters",
        [8, 16],
    ]
    assert first.metrics["params"] == first.model.count_params() < 421_642
    assert np.array_equal(first.arrays["probabilities"], again.arrays["probabilities"])
    sgd = training.optimizer(spec)
    assert (
        type(sgd).__name__ == "SGD"
        and sgd.momentum == 0.9
        and float(sgd.learning_rate) == pytest.approx(0.05)
    )
    plain = training.spec_for(StudyConfig(epochs=1), data, "cnn", 0, kernel_size=3)
    assert type(training.optimizer(plain)).__name__ == "Adam"
    # The penalty and the smoothing reach the loss: the same network without them trains to other numbers.
    bare = dataclasses.replace(spec, variant="bare", overrides=overrides[:-2])
    assert not np.array_equal(
        training.train(bare, data).arrays["probabilities"], first.arrays["probabilities"]
    )


@pytest.mark.parametrize("command", ["run", pytest.param("build", marks=needs_pango)])
def test_only_variants_without_a_declared_variant_says_how_to_declare_one(tmp_path, command):
    from typer.testing import CliRunner

    from fmnist_report.cli import app

    path = settings(tmp_path, "[study]\nseeds = 1\n")
    done = CliRunner().invoke(
        app, [command, "--only", "variants", "--config", str(path), "--out", str(tmp_path / "o")]
    )
    assert done.exit_code == 1, done.output
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "no variants are declared" in lines[0] and str(path) in lines[0]
    assert '[[variants]] base = "cnn" dropout = 0.3' in lines[0]
    assert not (tmp_path / "o" / "cache").exists()  # nothing was loaded or trained
