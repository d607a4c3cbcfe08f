"""docs/colab.ipynb: valid, Colab-only steps behind one flag, linked from the README, and run end to end here."""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

import nbformat
import pytest

from fmnist_report.config import ReportMeta

from .factories import needs_real_data

ROOT = Path(__file__).parents[1]
NOTEBOOK = ROOT / "docs" / "colab.ipynb"
README = ROOT / "README.md"
#: The notebook's one switch for what only makes sense on Colab, and the variables the test sets.
FLAG = "ON_COLAB"
LOCAL_ENV = "FMNIST_REPORT_NOTEBOOK_LOCAL"
OUT_ENV = "FMNIST_REPORT_NOTEBOOK_OUT"
#: A string that starts a command only Colab should run: system packages, the install from the
#: repository, the download of the data.
COLAB_COMMAND = re.compile(r"(apt-get|apt|pip|git|fetch)\b")
BADGE = re.compile(
    r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]"
    r"\(https://colab\.research\.google\.com/github/([\w.-]+)/([\w.-]+)/blob/([\w.-]+)/([^)\s]+)\)"
)
#: Paths of one machine that must not end up in the repository's notebook.
MACHINE_PATH = re.compile(r"/(work|root|home|usr/share|tmp)/")
KERNEL = "fmnist-report-notebook-test"


def notebook() -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK, as_version=4)


def code_cells(nb: nbformat.NotebookNode) -> list[str]:
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


def colab_only(node: ast.AST) -> bool:
    """Whether a node does something only a Colab runtime should: a command or google.colab."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return COLAB_COMMAND.fullmatch(node.value.split(" ")[0]) is not None
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").startswith("google.colab")
    if isinstance(node, ast.Import):
        return any(alias.name.startswith("google.colab") for alias in node.names)
    return isinstance(node, ast.Attribute) and node.attr == "download"


def unguarded(source: str) -> list[str]:
    """The Colab-only parts of a cell that do not sit in the body of an ``if ON_COLAB:``."""
    tree = ast.parse(source)
    guarded = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == FLAG
        for statement in node.body
        for inner in ast.walk(statement)
    }
    return [
        ast.get_source_segment(source, node) or type(node).__name__
        for node in ast.walk(tree)
        if colab_only(node) and id(node) not in guarded
    ]


def test_the_notebook_is_valid_nbformat_4_without_outputs():
    nb = notebook()
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata.get("accelerator") == "GPU"  # Colab opens it on a GPU runtime
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
    text = NOTEBOOK.read_text(encoding="utf-8")
    assert MACHINE_PATH.search(text) is None, MACHINE_PATH.search(text)


def test_every_colab_only_step_is_behind_the_one_flag():
    sources = code_cells(notebook())
    defined = [
        (index, node)
        for index, source in enumerate(sources)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == FLAG for t in node.targets)
    ]
    assert len(defined) == 1, "ON_COLAB must be assigned once"
    index, assignment = defined[0]
    assert index == 0, "the flag belongs in the first code cell, with the settings"
    flag_source = ast.unparse(assignment.value)
    assert "google.colab" in flag_source and LOCAL_ENV in flag_source
    assert OUT_ENV in sources[0]
    guarded_cells = 0
    for index, source in enumerate(sources):
        assert unguarded(source) == [], source
        guarded_cells += any(colab_only(node) for node in ast.walk(ast.parse(source)))
        # No second way of telling Colab apart: the flag's own test appears only where it is set.
        assert index == 0 or "sys.modules" not in source, source
    # apt, the install, the download of the data and the browser download
    assert guarded_cells >= 4


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ('sh("apt-get", "install", "-y", "libpango-1.0-0")', ['"apt-get"']),
        ('sh("pip install .")', ['"pip install ."']),
        (
            'from google.colab import files\nfiles.download("r.pdf")',
            ["from google.colab import files", "files.download"],
        ),
        ('if ON_COLAB:\n    sh("git", "clone", URL)\nelse:\n    sh(CLI, "fetch")', ['"fetch"']),
        ('if ON_COLAB:\n    sh("git", "clone", URL)\n    sh(CLI, "data", "fetch")', []),
        ('print("not on Colab: the install is skipped")', []),
    ],
)
def test_the_guard_check_finds_what_runs_outside_the_flag(source, found):
    assert unguarded(source) == found


def test_the_readme_badge_opens_this_notebook():
    badges = BADGE.findall(README.read_text(encoding="utf-8"))
    assert len(badges) == 1, "one Open in Colab badge in the README"
    owner, repo, branch, path = badges[0]
    assert branch == "main"
    assert (ROOT / path).resolve() == NOTEBOOK.resolve() and NOTEBOOK.is_file()
    # The notebook clones what the badge opens it from.
    assert f'REPO_URL = "https://github.com/{owner}/{repo}"' in code_cells(notebook())[0]


@needs_real_data
@pytest.mark.slow
@pytest.mark.realdata
def test_the_notebook_builds_the_quick_report_here(tmp_path, monkeypatch):
    """The whole notebook in a kernel of this interpreter, off Colab, on the CPU, into tmp_path."""
    from ipykernel.kernelspec import install
    from nbclient import NotebookClient

    # A kernel spec for this interpreter, and every Jupyter and IPython file, under tmp_path
    # (install() alone would create ~/.ipython).
    jupyter = tmp_path / "jupyter"
    jupyter.mkdir()
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter / "share" / "jupyter"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(jupyter / "data"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(jupyter / "runtime"))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(jupyter / "config"))
    monkeypatch.setenv("IPYTHONDIR", str(jupyter / "ipython"))
    install(kernel_name=KERNEL, prefix=str(jupyter))
    # The kernel inherits these, and conftest's FMNIST_REPORT_GPU_VISIBLE=0: TensorFlow on the CPU.
    monkeypatch.setenv(LOCAL_ENV, "1")
    out = tmp_path / "out"
    monkeypatch.setenv(OUT_ENV, str(out))
    work = tmp_path / "work"  # the kernel's working folder: no settings file, so the defaults
    work.mkdir()

    nb = notebook()
    NotebookClient(
        nb, kernel_name=KERNEL, timeout=1500, resources={"metadata": {"path": str(work)}}
    ).execute()

    title = ReportMeta().title
    assert (out / "report.html").is_file() and (out / "report.pdf").is_file()
    assert title in (out / "report.html").read_text(encoding="utf-8")
    [shown] = [cell for cell in nb.cells if "IPython.display" in cell.source]
    inline = [o.data["text/html"] for o in shown.outputs if "text/html" in o.get("data", {})]
    assert len(inline) == 1 and html.escape(title) in inline[0]
    assert list(work.iterdir()) == []  # everything went to the output folder
