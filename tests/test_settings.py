"""Settings: every mistake is one line naming the file, the key and the fix, found before any training."""

from __future__ import annotations

import shlex

import pytest
from typer.testing import CliRunner

from fmnist_report.cli import app
from fmnist_report.config import load_config
from fmnist_report.errors import ConfigError

from .factories import make_context


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path, monkeypatch):
    """Outside the checkout (its report/report.toml stays out), and no study may start."""
    from fmnist_report import pipeline

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pipeline, "study", lambda *a, **k: pytest.fail("the study started"))


def one_line_error(*args: str) -> str:
    """Run the CLI; assert it failed with one line and no traceback; return that line."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 1, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "Traceback" not in result.output + result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xff\xfe\x00\x01binary", r"s.toml is not UTF-8 text .*; name a TOML settings file"),
        (
            b"study = 5\n",
            r"s.toml: study must be a table of settings, got 5; write them under a \[study\] header",
        ),
        (
            b'report = "x"\n',
            r"s.toml: report must be a table of settings, got 'x'; write them under a \[report\]",
        ),
        (b"[study]\nepochs = [1]\n", r"s.toml: study.epochs must be an integer from 1 to 1000, got \[1\]"),
    ],
    ids=["binary", "study = 5", "report = 'x'", "a list for a number"],
)
def test_a_broken_settings_file_is_one_line_naming_file_key_and_fix(tmp_path, content, expected):
    (tmp_path / "s.toml").write_bytes(content)
    with pytest.raises(ConfigError, match=expected):
        load_config(tmp_path / "s.toml")
    line = one_line_error("run", "--config", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out"))
    assert str(tmp_path / "s.toml") in line
    assert not (tmp_path / "out" / "cache").exists()


def test_a_long_value_is_echoed_short(tmp_path):
    (tmp_path / "s.toml").write_text(f'[report]\ntitle = "{"x" * 10_070}"\n')
    line = one_line_error("run", "--config", str(tmp_path / "s.toml"))
    assert "report.title must be text of at most 300 characters" in line
    assert "(10,070 characters)" in line and len(line) < 300
    long_key = "k" * 5000
    (tmp_path / "s.toml").write_text(f"[study]\n{long_key} = 1\n")
    line = one_line_error("run", "--config", str(tmp_path / "s.toml"))
    assert "unknown key study." in line and "(5,000 characters)" in line and len(line) < 400


@pytest.mark.parametrize(
    "value",
    ["a\x00b", "line\nbreak", "bell\x07", "esc\x1b[31m", "\udcff"],
    ids=["NUL", "LF", "BEL", "ESC", "surrogate"],
)
def test_control_characters_are_refused(value):
    with pytest.raises(ConfigError, match=r"report.author must be text .*without control characters, got '"):
        load_config(report={"author": value})
    assert load_config(report={"author": "Zoë Ångström — 李"}).report.author == "Zoë Ångström — 李"


def test_control_characters_in_a_file_are_refused(tmp_path):
    (tmp_path / "s.toml").write_text('[report]\ntitle = "a\\u0000b"\n')
    line = one_line_error("build", "--config", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out"))
    assert "report.title must be text" in line and r"got 'a\x00b'" in line


def test_title_text_with_slashes_and_schemes_passes_the_check_before_training():
    """A title with '//' used to fail the HTML guard only after the whole study had trained;
    now the guard refuses resource loads only, so such text is accepted from the start."""
    from fmnist_report.config import Config, ReportMeta
    from fmnist_report.pipeline import check_report_text

    meta = ReportMeta(title="Notes // draft", course="see https://example.org", author="<img src=x>")
    assert check_report_text(Config(report=meta)) == []


def test_the_suggested_commands_survive_a_shell(tmp_path):
    out = tmp_path / "my report; $(touch pwned)"
    _, _, ctx = make_context(out)
    commands = ctx["deployment"]["commands"]
    assert len(commands) == 3
    for c in commands:
        words = shlex.split(c["command"])
        # Relative to where the build runs (test_printable_paths.py), quoted as one word.
        assert words[words.index("--model-dir") + 1] == "my report; $(touch pwned)/model"
