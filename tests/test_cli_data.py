"""The `data` commands through Typer's CliRunner: exit codes and one-line errors."""

from __future__ import annotations

import gzip

from typer.testing import CliRunner

from fmnist_report import data as data_mod
from fmnist_report.cli import app

from .factories import REAL_DIR, Mirror, needs_real_data, real_mirror, write_idx_dir

runner = CliRunner()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("fmnist-report ")


def test_missing_data_is_one_line_and_exit_1(isolated_env):
    result = runner.invoke(app, ["data", "check"])
    assert result.exit_code == 1
    assert "Fashion-MNIST not found" in result.output
    assert "Traceback" not in result.output


def test_check_takes_the_common_offline_option(isolated_env):
    # --offline is one of the README's common options; `data check` never downloads anyway.
    result = runner.invoke(app, ["data", "check", "--offline"])
    assert result.exit_code == 1, result.output  # not 2, a usage error
    assert "Fashion-MNIST not found" in result.output and "No such option" not in result.output
    directory = write_idx_dir(isolated_env / "d")
    result = runner.invoke(app, ["data", "check", "--offline", "--data-dir", str(directory)])
    assert result.exit_code == 1 and "header declares 40 items, expected 60000" in result.output


@needs_real_data
def test_check_offline_on_real_data(isolated_env):
    result = runner.invoke(app, ["data", "check", "--offline", "--data-dir", str(REAL_DIR), "--json"])
    assert result.exit_code == 0, result.output


@needs_real_data
def test_fetch_downloads_over_https(isolated_env, monkeypatch):
    mirror = real_mirror()
    monkeypatch.setattr(data_mod, "https_opener", lambda: mirror)
    result = runner.invoke(app, ["data", "fetch", "--dest", str(isolated_env / "dl")])
    assert result.exit_code == 0, result.output
    assert "all four files verified" in " ".join(result.output.split())
    assert mirror.requested and all(url.startswith("https://") for url in mirror.requested)


def test_fetch_redirected_to_http_is_one_line(isolated_env, monkeypatch):
    mirror = Mirror({f"{s.filename}.gz": b"" for s in data_mod.FILES}, redirect_to="http://example.org/")
    monkeypatch.setattr(data_mod, "https_opener", lambda: mirror)
    result = runner.invoke(app, ["data", "fetch", "--dest", str(isolated_env / "dl")])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "which is not HTTPS" in lines[0]
    assert not list((isolated_env / "dl").glob("*.gz"))


def _real_copy(tmp_path):
    """A copy of the installed data whose test labels a test may then damage."""
    directory = tmp_path / "copy"
    directory.mkdir()
    for spec in data_mod.FILES:
        src = REAL_DIR / f"{spec.filename}.gz"
        (directory / src.name).symlink_to(src)
    labels = directory / "t10k-labels-idx1-ubyte.gz"
    payload = gzip.decompress(labels.read_bytes())
    labels.unlink()
    return directory, labels, payload


@needs_real_data
def test_checksum_mismatch_exit_1(isolated_env):
    directory, labels, payload = _real_copy(isolated_env)
    damaged = bytearray(payload)
    damaged[-1] = (damaged[-1] + 1) % 10  # still a valid label, so only the checksum can tell
    labels.write_bytes(gzip.compress(bytes(damaged)))
    result = runner.invoke(app, ["data", "check", "--data-dir", str(directory)])
    assert result.exit_code == 1
    assert "MISMATCH" in result.output
    assert "1 file(s) failed the content checksum: t10k-labels-idx1-ubyte.gz" in result.output


@needs_real_data
def test_truncated_file_one_line_error(isolated_env):
    directory, labels, payload = _real_copy(isolated_env)
    labels.write_bytes(gzip.compress(payload[:-3]))
    result = runner.invoke(app, ["data", "check", "--data-dir", str(directory)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "t10k-labels-idx1-ubyte.gz: file is truncated" in lines[0]
    assert "Traceback" not in result.output


def test_structure_error_on_tiny_files_is_one_line(isolated_env):
    directory = write_idx_dir(isolated_env / "d")
    result = runner.invoke(app, ["data", "check", "--data-dir", str(directory)])
    assert result.exit_code == 1
    assert "header declares 40 items, expected 60000" in result.output


@needs_real_data
def test_check_real_data_json(isolated_env):
    result = runner.invoke(app, ["data", "check", "--data-dir", str(REAL_DIR), "--json"])
    assert result.exit_code == 0, result.output
    import json

    summary = json.loads(result.output)
    assert summary["ok"] is True
    assert summary["train_class_counts"] == [6000] * 10
    assert summary["test_class_counts"] == [1000] * 10
    assert [f["md5"] for f in summary["files"]] == [s.payload_md5 for s in data_mod.FILES]
