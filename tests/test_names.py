"""One name alphabet for variant names, model ids and note placeholders; names that say what they are."""

from __future__ import annotations

import re

import pytest

from fmnist_report import ids
from fmnist_report.config import load_config
from fmnist_report.errors import ConfigError
from fmnist_report.ids import ModelId
from fmnist_report.report import notes

from .test_variants import settings as settings_file


@pytest.fixture(autouse=True)
def _no_default_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # so report/report.toml of the checkout is not picked up


def settings(tmp_path, text: str):
    return load_config(settings_file(tmp_path, text))


def with_note(tmp_path, variants: str, note: str):
    (tmp_path / "notes").mkdir(exist_ok=True)
    (tmp_path / "notes" / "d.md").write_text(note, encoding="utf-8")
    return settings(tmp_path, f'[report]\nnotes = {{ discussion = "notes/d.md" }}\n{variants}')


#: Every character a variant's name may hold, each in a name of its own.
NAMES = ["a+b", "a-b", "a_b", "a.b", "a=b", "a,b", "A9", "9a", "x" * 40]


@pytest.mark.parametrize("name", NAMES)
def test_every_valid_variant_name_is_an_id_and_a_placeholder(tmp_path, name):
    cfg = with_note(
        tmp_path,
        f"[[variants]]\nname = '{name}'\nbase = 'cnn'\ndropout = 0.3\n",
        f"The variant reached {{{{ cnn3[{name}].test_accuracy }}}} ({{{{ cnn3[{name}].test_loss.mean }}}}).",
    )
    (variant,) = cfg.study.variants
    model = str(ModelId("cnn", 3, variant=variant.name))
    assert ModelId.parse(model).variant == name
    assert notes.check(cfg, ["cnn3", model])


def test_the_alphabet_is_decided_in_one_place():
    assert ids.NAME_PUNCTUATION == "_.=,+-"
    for bad in ("a b", "a[b", "a]b", "-a", "é", "a/b", "a}b", "x" * 41):
        assert not ids.is_variant_name(bad)
        with pytest.raises(ValueError):
            ModelId("cnn", 3, variant=bad)
    assert all(ids.is_variant_name(name) for name in NAMES)


def test_a_default_name_too_long_asks_for_a_name_and_blames_no_name_the_user_never_wrote(tmp_path):
    text = (
        "[[variants]]\nbase = 'cnn'\nfilters = [16, 32, 64]\ndense_units = [256, 64]\nstage_dropout = 0.25\n"
    )
    with pytest.raises(ConfigError) as refused:
        settings(tmp_path, text)
    message = str(refused.value)
    assert "\n" not in message and "name must be" not in message
    assert "the name made from the overrides" in message
    assert "filters=16x32x64,dense_units=256x64,stage_dropout=0.25" in message
    assert "is more than 40 characters" in message and 'name = "..."' in message
    # With a name of its own the same variant is fine.
    named = settings(tmp_path, text.replace("base = 'cnn'", "name = 'deep'\nbase = 'cnn'"))
    assert [v.name for v in named.study.variants] == ["deep"]


@pytest.mark.parametrize(
    ("text", "builtin"),
    [
        ("base = 'cnn'\nkernel_size = 5\n", "cnn5 (CNN 5x5)"),
        ("name = 'k7'\nbase = 'cnn'\nkernel_size = 7\n", "cnn7 (CNN 7x7)"),
        ("base = 'dense'\n", "dense (Dense)"),
        ("base = 'cnn'\n", "cnn3 (CNN 3x3)"),
    ],
)
def test_a_variant_equal_to_a_builtin_model_is_refused_naming_it(tmp_path, text, builtin):
    with pytest.raises(ConfigError) as refused:
        settings(tmp_path, f"[[variants]]\n{text}")
    message = str(refused.value)
    assert "\n" not in message and str(tmp_path / "r.toml") in message
    assert re.search(rf"the built-in model {re.escape(builtin)}", message), message


def test_a_kernel_size_the_study_does_not_train_is_a_variant_of_its_own(tmp_path):
    cfg = settings(tmp_path, "[[variants]]\nbase = 'cnn'\nkernel_size = 9\n")
    assert [v.name for v in cfg.study.variants] == ["kernel_size=9"]
    fewer = settings(
        tmp_path, "[study]\nkernel_sizes = [3, 7]\n[[variants]]\nbase = 'cnn'\nkernel_size = 5\n"
    )
    assert [v.name for v in fewer.study.variants] == ["kernel_size=5"]
    # Changed together with something else, a 5x5 kernel makes a model the study does not have.
    both = settings(tmp_path, "[[variants]]\nbase = 'cnn'\nkernel_size = 5\ndropout = 0.3\n")
    assert [v.name for v in both.study.variants] == ["kernel_size=5,dropout=0.3"]
