"""Folders as the report, the model card and the export print them: naming no one's home.

A report is handed in or published; a model is uploaded. None of them may carry the absolute
paths of the machine that built it (``/Users/<name>/...``).
"""

from __future__ import annotations

import os
from pathlib import Path


def _absolute(path: str | os.PathLike[str]) -> Path:
    """``path`` made absolute against the working folder, ``..`` folded, symlinks kept."""
    return Path(os.path.normpath(Path(path).expanduser().absolute()))


def _inside(target: Path, folder: Path) -> str | None:
    """``target`` relative to ``folder`` (``.`` for the folder itself), or None where it is outside.

    Compared as written first, then with symlinks resolved (a home folder reached through a link).
    """
    for t, f in ((target, folder), (target.resolve(), folder.resolve())):
        if t == f or f in t.parents:
            return t.relative_to(f).as_posix()
    return None


def _home() -> Path | None:
    try:
        return _absolute(Path.home())
    except (RuntimeError, KeyError):  # no HOME and no password entry: there is no home to hide
        return None


def printable_path(path: str | os.PathLike[str]) -> str:
    """A folder or file as the report prints it, naming nothing personal of the machine that built it.

    In this order:

    - under the working folder (where the build runs): relative to it, as a reader pastes it into
      a shell opened there (``output/model``, ``runs/a/model``);
    - under the home folder: from ``~`` (``~/.cache/fmnist-report/fashion-mnist``);
    - elsewhere (a system folder such as ``/usr/share/datasets/fashion-mnist``): absolute, as it
      names no one.
    """
    target = _absolute(path)
    base = _absolute(Path.cwd())
    if base.parent != base:  # relative to the root folder is no shorter and pastes nowhere else
        inside = _inside(target, base)
        if inside is not None:
            return inside
    home = _home()
    if home is not None and home.parent != home:
        inside = _inside(target, home)
        if inside is not None:
            return "~" if inside == "." else f"~/{inside}"
    return target.as_posix()


def printable_source(source: str) -> str:
    """A data source as `data.load` names it, ``label: folder``, with the folder made printable.

    A source that names no folder (``synthetic``) is returned as it is.
    """
    label, sep, folder = source.partition(": ")
    if not sep or not folder.strip():
        return source
    return f"{label}: {printable_path(folder)}"
