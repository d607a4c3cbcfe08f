"""Every student's machine: what Windows and a machine without Pango would do, simulated here.

Windows has no ``fcntl``, ``termios``, ``pwd``, ``grp`` or ``resource``: a ``sitecustomize``
on PYTHONPATH makes them unimportable in a subprocess, so a command that needs one fails
there as it would on Windows. A machine without Pango is simulated the same way: its
WeasyPrint import raises the OSError that cffi raises for a missing library.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fmnist_report.config import ConfigError, read_toml
from fmnist_report.report import preflight

from .factories import REAL_DIR, needs_pango, needs_real_data

BLOCKER = """\
import sys

BLOCKED = {blocked!r}
RAISES = {raises!r}


class Block:
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        if top in RAISES:
            raise OSError(RAISES[top])
        return None


sys.meta_path.insert(0, Block())

MISSING = {missing!r}
if MISSING:  # a system library cffi cannot open, as on a machine without it
    import cffi

    opened = cffi.FFI.dlopen

    def dlopen(self, name, *args, **kwargs):
        if any(lib in str(name) for lib in MISSING):
            raise OSError(f"cannot load library {{name!r}}: {{name}}: cannot open shared object file")
        return opened(self, name, *args, **kwargs)

    cffi.FFI.dlopen = dlopen
"""
#: What Windows lacks of the standard library that a Linux program may import.
POSIX_ONLY = ("fcntl", "termios", "tty", "pty", "pwd", "grp", "resource")
#: What cffi raises where Pango is missing (WeasyPrint's most reported error).
NO_PANGO = "cannot load library 'libgobject-2.0-0': libgobject-2.0-0: cannot open shared object file"
CLI = [sys.executable, "-m", "fmnist_report"]


def simulated(tmp_path: Path, *, blocked=POSIX_ONLY, raises=None, missing=()) -> dict[str, str]:
    """An environment whose Python cannot import ``blocked``, fails to import ``raises``, and
    whose cffi cannot open the system libraries named in ``missing``."""
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    text = BLOCKER.format(blocked=set(blocked), raises=raises or {}, missing=tuple(missing))
    (site / "sitecustomize.py").write_text(text, encoding="utf-8")
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "XDG_CACHE_HOME": str(tmp_path / "xdg")}


def run(args, env, cwd, timeout=120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_the_simulation_really_blocks_fcntl(tmp_path):
    done = run([sys.executable, "-c", "import fcntl"], simulated(tmp_path), tmp_path)
    assert done.returncode == 1 and "No module named 'fcntl'" in done.stderr


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["build", "--help"], ["variants", "--list"]])
def test_the_cli_starts_without_posix_modules(tmp_path, args):
    done = run([*CLI, *args], simulated(tmp_path), tmp_path)
    assert done.returncode == 0, done.stderr
    assert "fcntl" not in done.stderr and "Traceback" not in done.stderr


STORE_WRITERS = """
import sys
from pathlib import Path
from fmnist_report.store import Store, atomic_dir
from fmnist_report.records import Record
import numpy as np
root = Path(sys.argv[1])
for i in range(20):
    Store(root).put(Record("eda", f"k{i % 4}", {"i": i}, {"a": np.arange(3)}))
    atomic_dir(root / "figures", lambda tmp: (tmp / "who").write_text(sys.argv[2]))
print(Store(root).clean_partial())
"""


def test_the_store_locks_and_swaps_without_fcntl(tmp_path):
    """Two writers on one store at once, with filelock's fallback where fcntl is missing."""
    env = simulated(tmp_path)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", STORE_WRITERS, str(tmp_path / "store"), str(w)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(2)
    ]
    results = [w.communicate(timeout=120) for w in writers]
    assert [w.returncode for w in writers] == [0, 0], results
    assert sorted(p.name for p in (tmp_path / "store" / "eda").iterdir()) == ["k0", "k1", "k2", "k3"]
    assert (tmp_path / "store" / "figures" / "who").read_text() in {"0", "1"}


def test_no_pango_stops_the_build_in_one_line_before_anything(tmp_path):
    """WeasyPrint's own import runs and fails in cffi, as without Pango; its advice is not printed."""
    env = simulated(tmp_path, blocked=(), missing=("gobject", "pango"))
    out = tmp_path / "out"
    done = run([*CLI, "build", "--profile", "quick", "--out", str(out)], env, tmp_path)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: the PDF needs Pango") and "gobject-2.0" in lines[0]
    assert "--no-pdf" in lines[0] and "nothing was trained" in lines[0]
    assert not (out / "cache").exists() and done.stdout == ""


def test_no_pango_leaves_the_html_route_open(tmp_path):
    """--no-pdf skips the check: the report's HTML needs no Pango."""
    env = simulated(tmp_path, blocked=(), raises={"weasyprint": NO_PANGO})
    config = tmp_path / "r.toml"
    config.write_text('[study]\nprofile = "nonsense"\n')
    done = run([*CLI, "build", "--no-pdf", "--config", str(config)], env, tmp_path)
    # The settings are read next, and their error is the first thing said: Pango was not asked for.
    assert done.returncode == 1 and "Pango" not in done.stderr and "profile" in done.stderr


@pytest.mark.parametrize(
    ("platform", "release", "command"),
    [
        ("win32", None, "MSYS2"),
        ("darwin", None, "brew install pango"),
        ("linux", {"ID": "ubuntu", "ID_LIKE": "debian"}, "sudo apt-get install libpango-1.0-0"),
        ("linux", {"ID": "fedora"}, "sudo dnf install pango"),
        ("linux", {"ID": "rocky", "ID_LIKE": "rhel centos fedora"}, "sudo dnf install pango"),
        ("linux", {"ID": "gentoo"}, "package manager"),
    ],
)
def test_the_install_line_names_this_systems_command(monkeypatch, platform, release, command):
    monkeypatch.setattr(preflight.sys, "platform", platform)
    monkeypatch.setattr(preflight.platform, "freedesktop_os_release", lambda: release)
    monkeypatch.setattr(preflight, "pdf_engine_problem", lambda: NO_PANGO)
    with pytest.raises(preflight.PdfEngineError, match="the PDF needs Pango") as caught:
        preflight.check_pdf_engine()
    assert command in str(caught.value) and "\n" not in str(caught.value)


@needs_pango
def test_weasyprint_loads_here():
    """This machine has Pango (the set-up installs it), so the check passes and says nothing."""
    assert preflight.pdf_engine_problem() is None
    preflight.check_pdf_engine()


def test_piped_output_is_utf8_whatever_the_code_page(tmp_path):
    """Windows pipes use cp1252, which has no '≈': the CLI writes UTF-8 instead of failing."""
    code = "from fmnist_report.cli import utf8_streams; utf8_streams(); print('≈ ✓ 图'); import sys; print('≈', file=sys.stderr)"
    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode("utf-8").strip() == "≈ ✓ 图" and done.stderr.decode("utf-8").strip() == "≈"
    without = subprocess.run([sys.executable, "-c", "print('≈')"], env=env, capture_output=True, timeout=60)
    assert b"UnicodeEncodeError" in without.stderr  # what the CLI did before


def test_a_settings_file_with_a_byte_order_mark_reads(tmp_path):
    """Notepad saves UTF-8 with a BOM."""
    path = tmp_path / "report.toml"
    path.write_bytes("\ufeff[report]\ntitle = 'Über'\n".encode())
    assert read_toml(path)["report"]["title"] == "Über"


def test_a_windows_path_in_double_quotes_names_the_fix(tmp_path):
    path = tmp_path / "report.toml"
    for value in (r'"C:\Users\me\data"', r'"D:\data"'):
        path.write_text(f"[study]\ndata_dir = {value}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match="forward slashes .* or in single quotes"):
            read_toml(path)
    path.write_text("[study]\nprofile = 'quick'\n[report]\ntitle = 'C:\\Users\\me'\n", encoding="utf-8")
    assert read_toml(path)["report"]["title"] == r"C:\Users\me"


QUICK = textwrap.dedent(
    """\
    [report]
    title = "Built without fcntl"
    [study]
    profile = "quick"
    seeds = 1
    train_per_class = 60
    test_per_class = 20
    """
)


@needs_real_data
@pytest.mark.slow
@pytest.mark.realdata
def test_a_quick_build_runs_without_posix_modules(tmp_path):
    """The whole build (training, export, figures, HTML, PDF) where fcntl and friends are missing."""
    (tmp_path / "q.toml").write_text(QUICK, encoding="utf-8")
    env = simulated(tmp_path)
    args = [*CLI, "build", "--config", "q.toml", "--out", "out", "--data-dir", str(REAL_DIR), "--quiet"]
    done = run(args, env, tmp_path, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Built without fcntl" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert (tmp_path / "out" / "report.pdf").read_bytes().startswith(b"%PDF-")


def test_missing_fonts_stop_the_build_in_one_line_before_anything(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from fmnist_report.cli import app
    from fmnist_report.report import fonts

    monkeypatch.setattr(fonts, "missing_fonts", lambda: ["mpl-data/fonts/ttf/DejaVuSans.ttf"])
    result = CliRunner().invoke(
        app, ["build", "--profile", "quick", "--out", str(tmp_path / "out"), "--no-pdf"]
    )
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error: the report's fonts are missing or damaged (mpl-data")
    assert "reinstall" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_the_shipped_font_answers_for_the_characters_it_has(monkeypatch):
    """A Mac has no fontconfig: Cyrillic, which the shipped DejaVu has, is no missing character."""
    from fmnist_report import pipeline

    monkeypatch.setattr(pipeline.shutil, "which", lambda name: None)
    assert pipeline.font_covers("Ж")
    monkeypatch.setattr(pipeline.shutil, "which", lambda name: "/bin/fc-list")
    monkeypatch.setattr(pipeline.subprocess, "run", lambda *a, **k: type("Done", (), {"stdout": ""})())
    assert not pipeline.font_covers("图")  # neither the shipped font nor fontconfig has it
    assert pipeline.font_covers("Ж")
