"""`fmnist-report new DIR`: a study folder of one's own, from the templates in templates/new/.

The folder holds the settings (``report.toml``: the title page and one variant as an
example), a note for the discussion, a GitHub workflow that installs this version of the tool,
builds the report and publishes it to Pages, a dev container, a ``.gitignore`` and a README.
It is written all or nothing: into a temporary folder beside DIR, which is then renamed into
place (:func:`store.atomic_dir`), or whose entries are moved into DIR where DIR is there and
empty already (so that a shell inside it, or its ``.git``, keeps working).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import jinja2

from fmnist_report import __version__
from fmnist_report.config import STUDY_TOML, check_report_meta, load_config
from fmnist_report.errors import UserError
from fmnist_report.store import TMP_PREFIX, atomic_dir

#: Each file written: its template in templates/new/ and its path in the study folder.
FILES = (
    ("report.toml.j2", STUDY_TOML.as_posix()),
    ("discussion.md.j2", "notes/discussion.md"),
    ("workflow.yml.j2", ".github/workflows/report.yml"),
    ("devcontainer.json.j2", ".devcontainer/devcontainer.json"),
    ("gitignore.j2", ".gitignore"),
    ("README.md.j2", "README.md"),
)
#: What an existing folder may hold and still count as empty: a fresh ``git init``.
EMPTY_ENOUGH = frozenset({".git"})
#: A git URL that pins what it installs: https, then ``@`` and a tag or commit.
GIT_URL = re.compile(r"https://[A-Za-z0-9.-]+(?:/[A-Za-z0-9._~%+-]+)+@[A-Za-z0-9._/-]+")
#: What a pip requirement written into YAML, JSON and shell lines may hold (no quote, no ``$``).
SAFE_REQUIREMENT = re.compile(r"[A-Za-z0-9 \[\]=@:/._~%+-]+")
REFUSED_FIX = "name a new or empty folder: fmnist-report new OTHER-DIR"
WRITE_FIX = "name a folder in a place you can write to: fmnist-report new OTHER-DIR"


def requirement(git: str | None = None) -> str:
    """What pip installs: this version from PyPI, or from ``git`` (a URL ending in @tag or @commit)."""
    if git is None:
        return f"fmnist-report[cpu]=={__version__}"
    if not GIT_URL.fullmatch(git):
        raise UserError(
            f"--git must be the repository's https URL pinned to a tag or commit, such as "
            f"https://github.com/OWNER/fmnist-report@v{__version__}; got {git!r}"
        )
    return f"fmnist-report[cpu] @ git+{git}"


def render(*, title: str, author: str, course: str, pip_requirement: str) -> dict[str, str]:
    """Every file of a study folder, by its path in the folder."""
    check_report_meta({"title": title, "author": author, "course": course}, "command line")
    if not SAFE_REQUIREMENT.fullmatch(pip_requirement):  # `requirement` makes only safe ones
        raise ValueError(f"unsafe pip requirement {pip_requirement!r}")
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("fmnist_report", "templates/new"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        # The files are full of GitHub's ${{ }}, TOML's [[ ]] and the notes' {{ }}: values are {= =}.
        variable_start_string="{=",
        variable_end_string="=}",
        comment_start_string="{##",
        comment_end_string="##}",
    )
    # A JSON string is a TOML basic string too: the same escapes, and non-ASCII text as it is.
    env.filters["toml"] = env.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False)
    values = {
        "title": title,
        "author": author,
        "course": course,
        "version": __version__,
        "requirement": pip_requirement,
    }
    return {path: env.get_template(name).render(values) for name, path in FILES}


def write_study(target: Path, files: dict[str, str]) -> Path:
    """Write ``files`` into the new folder ``target``, all or nothing; refuse one that holds anything."""
    target = Path(os.path.abspath(target))
    _refuse_unless_empty(target)

    def fill(folder: Path) -> None:
        for relative, text in files.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        # The settings this folder's build will read must load as the build loads them.
        load_config(folder / STUDY_TOML)
        _refuse_unless_empty(target)  # once more, right before the swap

    try:
        if target.is_dir():
            _fill_in_place(target, fill)
        else:
            atomic_dir(target, fill, fix=WRITE_FIX)
    except OSError as exc:
        raise UserError(f"cannot write {target} ({exc.strerror or exc}); {WRITE_FIX}") from exc
    return target


def _refuse_unless_empty(target: Path) -> None:
    if target.is_dir():
        extra = sorted(
            entry.name
            for entry in target.iterdir()
            if entry.name not in EMPTY_ENOUGH and not entry.name.startswith(TMP_PREFIX)
        )
        if extra:
            raise UserError(f"{target} is not empty (it holds {extra[0]}); {REFUSED_FIX}")
    elif target.exists() or target.is_symlink():
        raise UserError(f"{target} exists and is no folder; {REFUSED_FIX}")


def _fill_in_place(target: Path, fill: Callable[[Path], None]) -> None:
    """Fill a temporary folder inside ``target``, then move its entries up into it, or none.

    Inside, not beside: the folder above may be another user's or another file system.
    """
    stage = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{target.name}.", dir=target))
    moved: list[tuple[Path, Path]] = []
    try:
        fill(stage)
        for entry in sorted(stage.iterdir()):
            os.rename(entry, target / entry.name)
            moved.append((target / entry.name, entry))
    except BaseException:
        for placed, back in reversed(moved):
            with contextlib.suppress(OSError):
                os.rename(placed, back)
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
