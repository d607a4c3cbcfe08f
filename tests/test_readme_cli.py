"""Promises of the README that only the command line or the package's shape can keep."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

from typer.testing import CliRunner

from fmnist_report.cli import app
from fmnist_report.config import load_config
from fmnist_report.study.plan import plan

from .factories import synthetic_dataset

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_variants_list_names_every_key_the_readme_names():
    """ "The keys: `kernel_size`, `filters` ..." and `fmnist-report variants --list` agree."""
    paragraph = README.split("The keys: ", 1)[1].split("Every mistake", 1)[0]
    keys = re.findall(r"`([a-z_]+)`", re.sub(r"\([^)]*\)", "", paragraph))  # values are in parentheses
    assert len(keys) >= 12 and "label_smoothing" in keys
    result = CliRunner().invoke(app, ["variants", "--list"])
    assert result.exit_code == 0, result.output
    listed = set(re.findall(r"^\s*([a-z_]+)\b", result.stdout, re.M))
    assert set(keys) <= listed, set(keys) - listed


def test_report_never_imports_keras():
    """ "report/ ... never imports Keras": every module of the report package, in a fresh interpreter."""
    code = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        import fmnist_report.report as report
        for module in pkgutil.walk_packages(report.__path__, "fmnist_report.report."):
            importlib.import_module(module.name)
        heavy = sorted(m for m in ("keras", "tensorflow", "jax", "torch") if m in sys.modules)
        print(",".join(heavy) or "none")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "none"


def settings(tmp_path: Path, name: str | None) -> Path:
    path = tmp_path / f"{name}.toml"
    variant = f'\n[[variants]]\nname = "{name}"\nbase = "cnn"\ndropout = 0.3\n' if name else ""
    path.write_text(f'[study]\nprofile = "quick"\n{variant}', encoding="utf-8")
    return path


def test_renaming_a_variant_trains_it_again_and_only_it(tmp_path):
    """ "A variant's name is part of its id and of its cache key: renaming it trains it again."""
    data = synthetic_dataset()
    keys = {
        name: {r.key for r in plan(load_config(settings(tmp_path, name)), data)} for name in (None, "a", "b")
    }
    plain, first, second = keys[None], keys["a"], keys["b"]
    assert plain < first and plain < second  # the built-in models keep their keys
    assert first - plain and second - plain and not (first - plain) & (second - plain)


def test_the_set_up_installs_the_emoji_and_cjk_fonts_the_readme_names():
    system_deps = (ROOT / "scripts" / "system-deps.sh").read_text(encoding="utf-8")
    assert "fonts-noto-color-emoji" in system_deps and "fonts-noto-cjk" in system_deps
    assert "Noto Sans CJK and Noto Color Emoji" in README
