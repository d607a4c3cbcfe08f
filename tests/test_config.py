"""Configuration: precedence and validation messages."""

from __future__ import annotations

import pytest

from fmnist_report.config import PROFILES, as_dict, load_config
from fmnist_report.errors import ConfigError


@pytest.fixture(autouse=True)
def _no_default_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # so report/report.toml of the checkout is not picked up


def test_defaults_are_the_full_protocol():
    study = load_config().study
    assert (study.epochs, study.batch_size, study.validation_fraction) == (10, 128, 0.15)
    assert study.seed_list == (0, 1, 2)
    assert study.kernel_sizes == (3, 5, 7)
    assert study.train_per_class is None


def test_quick_profile_presets():
    study = load_config(study={"profile": "quick"}).study
    assert study.epochs == PROFILES["quick"]["epochs"]
    assert study.seeds == 1 and study.train_per_class == PROFILES["quick"]["train_per_class"]


def test_precedence_defaults_file_cli(tmp_path):
    toml = tmp_path / "r.toml"
    toml.write_text('[report]\nauthor = "Ada"\n[study]\nseeds = 2\nepochs = 4\n')
    cfg = load_config(toml)
    assert (cfg.study.seeds, cfg.study.epochs, cfg.report.author) == (2, 4, "Ada")
    cfg = load_config(toml, study={"seeds": 5, "epochs": None}, report={"author": "Grace"})
    assert (cfg.study.seeds, cfg.study.epochs, cfg.report.author) == (5, 4, "Grace")


def test_default_file_is_read_from_the_project(tmp_path):
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "report.toml").write_text('[report]\ncourse = "ML 101"\n')
    assert load_config().report.course == "ML 101"


def _project(root, name="fmnist-report"):
    (root / "report").mkdir(parents=True)
    (root / "report" / "report.toml").write_text('[report]\nauthor = "Ada"\n')
    (root / "pyproject.toml").write_text(f'[project]\nname = "{name}"\n')
    return root


def test_settings_are_found_from_a_folder_inside_the_project(tmp_path, monkeypatch):
    project = _project(tmp_path / "checkout")
    (project / "output" / "figures").mkdir(parents=True)
    monkeypatch.chdir(project / "output" / "figures")
    cfg = load_config()
    assert cfg.report.author == "Ada"
    assert cfg.settings_file == (project / "report" / "report.toml").resolve()
    assert as_dict(cfg)["settings_file"] == str(cfg.settings_file)


def test_outside_the_project_the_defaults_stand_and_the_config_says_so(tmp_path, monkeypatch):
    # Another project's report/report.toml above the working directory is not ours.
    other = _project(tmp_path / "other", name="another-project")
    (other / "src").mkdir()
    monkeypatch.chdir(other / "src")
    cfg = load_config()
    assert cfg.report.author == "Anonymous"
    assert cfg.settings_file is None and as_dict(cfg)["settings_file"] is None


def test_a_named_settings_file_is_the_one_recorded(tmp_path):
    toml = tmp_path / "mine.toml"
    toml.write_text('[report]\nauthor = "Grace"\n')
    assert load_config(toml).settings_file == toml


@pytest.mark.parametrize(
    ("study", "message"),
    [
        ({"epochs": 0}, r"study.epochs must be an integer from 1 to 1000, got 0"),
        ({"profile": "fast"}, r"study.profile must be one of full, quick, got 'fast'"),
        (
            {"validation_fraction": 0.7},
            r"validation_fraction must be a number greater than 0 and less than 0.5, got 0.7",
        ),
        (
            {"kernel_sizes": [3, 4]},
            r"kernel_sizes must be a list of 1 to 7 distinct odd integers from 1 to 13",
        ),
        ({"seeds": True}, r"study.seeds must be an integer from 1 to 20, got True"),
        ({"precision": "fp16"}, r"precision must be one of auto, float32, mixed_bfloat16, got 'fp16'"),
    ],
)
def test_invalid_values_name_key_allowed_and_given(study, message):
    with pytest.raises(ConfigError, match=message):
        load_config(study=study)


def test_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[study]\nepochs = 'ten'\n")
    with pytest.raises(
        ConfigError, match=r"bad.toml: study.epochs must be an integer from 1 to 1000, got 'ten'"
    ):
        load_config(bad)
    bad.write_text("[study\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_config(bad)
    bad.write_text("[studdy]\n")
    with pytest.raises(ConfigError, match=r"unknown section \[studdy\]"):
        load_config(bad)
    bad.write_text("[study]\nepoch = 3\n")
    with pytest.raises(ConfigError, match="unknown key study.epoch; known keys are"):
        load_config(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")
