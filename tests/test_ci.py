"""CI: the GitHub workflow's promises, its job summary, and a test run that tests nothing failing."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fmnist_report.report.wording import comparison_sentence
from fmnist_report.study.summary import summarize

from .factories import make_results

#: The first major of each action that runs on Node 24 (Node 20 left the hosted runners).
NODE24_MAJORS = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/cache": 5,
    "actions/upload-artifact": 6,
    "actions/upload-pages-artifact": 5,
    "actions/deploy-pages": 5,
}


@pytest.fixture(scope="module")
def workflow(pytestconfig) -> str:
    return (pytestconfig.rootpath / ".github" / "workflows" / "report.yml").read_text()


def jobs(workflow: str) -> dict[str, str]:
    """Each job's block of the workflow, by job id."""
    body = workflow.split("\njobs:\n", 1)[1]
    parts = re.split(r"^  ([\w-]+):\n", body, flags=re.M)[1:]
    return dict(zip(parts[::2], parts[1::2], strict=True))


def test_every_action_is_pinned_to_a_commit_of_a_node24_release(workflow):
    uses = re.findall(r"uses: ([\w./-]+)@(\S+)(?: # v(\d+)\.\d+\.\d+)?", workflow)
    assert {name for name, _, _ in uses} == set(NODE24_MAJORS)
    for name, ref, major in uses:
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{name} is not pinned to a commit"
        assert major and int(major) >= NODE24_MAJORS[name], f"{name} v{major} runs on Node 20"


def test_pull_requests_run_the_tests_and_main_publishes(workflow):
    by_id = jobs(workflow)
    assert "pull_request:" in workflow and "run: python scripts/dev.py test" in by_id["test"]
    assert "$GITHUB_STEP_SUMMARY" in by_id["report"] and "fmnist-report run" in by_id["report"]
    assert "actions/upload-pages-artifact@" in by_id["report"]
    assert "actions/deploy-pages@" in by_id["deploy"] and "github-pages" in by_id["deploy"]
    assert "refs/heads/main" in by_id["deploy"] and "needs: [test, report]" in by_id["deploy"]


def test_only_the_deploy_job_may_write(workflow):
    assert re.search(r"^permissions: \{\}$", workflow, re.M)
    for job_id, block in jobs(workflow).items():
        writes = set(re.findall(r"^      ([\w-]+): write", block, re.M))
        assert writes == ({"pages", "id-token"} if job_id == "deploy" else set()), job_id


def load_script(path):
    """A script of scripts/ as a module."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_job_summary_is_the_headline_table(pytestconfig, tmp_path):
    job_summary = load_script(pytestconfig.rootpath / "scripts" / "job_summary.py")
    written = tmp_path / "summary.json"  # as `fmnist-report run --json` writes it
    written.write_text(summarize(make_results(tmp_path)).to_json(), encoding="utf-8")
    summary = json.loads(written.read_text(encoding="utf-8"))
    assert job_summary.main([str(written)]) == 0
    text = job_summary.markdown(job_summary.Summary.from_dict(summary))
    assert text.startswith("### Fashion-MNIST study (quick profile)\n")
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| model | seeds | accuracy |")
    assert len(rows) == 1 + len(summary["models"])
    dense = summary["models"]["dense"]
    acc = dense["test_accuracy"]
    half = (acc["ci_high"] - acc["ci_low"]) / 2
    assert f"| {dense['label']} | {len(dense['seeds'])} | {acc['mean']:.4f} ± {half:.4f} |" in text
    assert all(f"- {comparison_sentence(c)}" in text for c in summary["comparisons"].values())


def test_the_job_summary_names_a_file_of_another_schema_in_one_line(pytestconfig, tmp_path, capsys):
    job_summary = load_script(pytestconfig.rootpath / "scripts" / "job_summary.py")
    old = tmp_path / "summary.json"
    old.write_text('{"profile": "quick", "models": []}', encoding="utf-8")
    assert job_summary.main([str(old)]) == 1
    assert capsys.readouterr().err == (
        f"error: {old} has no schema_version: it was written by a release before the Summary (schema 2); "
        "build it again with this version\n"
    )


def test_ci_runs_the_readmes_test_command_and_fails_with_it(pytestconfig):
    """.ci/run is the README's test command; a failing step (pytest's exit 5: nothing ran) fails it."""
    root = pytestconfig.rootpath
    ci = (root / ".ci" / "run").read_text()
    assert re.search(r"^set -euo pipefail$", ci, re.M)
    assert re.search(r"^python3 scripts/dev\.py test$", ci, re.M)
    assert "python scripts/dev.py test" in (root / "README.md").read_text()
    dev = load_script(root / "scripts" / "dev.py")
    with pytest.raises(SystemExit) as caught:
        dev.run(sys.executable, "-c", "raise SystemExit(5)")
    assert caught.value.code == 5
    dev.run(sys.executable, "-c", "pass")  # a step that passes goes on


def test_the_platforms_job_runs_the_readme_commands_on_three_systems(workflow):
    block = jobs(workflow)["platforms"]
    assert re.search(r"os: \[ubuntu-[\d.]+, macos-1[4-9], windows-[\d]+\]", block)
    assert 'python: ["3.11", "3.13"]' in block and "fail-fast: false" in block
    assert 'python scripts/dev.py test -m "not slow"' in block
    assert "build --profile quick $PDF_FLAG" in block and "data fetch" in block
    assert "startsWith(matrix.os, 'windows') && '--no-pdf'" in block


def test_a_pull_request_is_compared_with_mains_published_quick_build(workflow):
    by_id = jobs(workflow)
    assert "PLACEHOLDER" not in workflow
    step = by_id["report"].split("- name: Compare with main\n", 1)[1].split("- name:", 1)[0]
    assert "if: github.event_name == 'pull_request'" in step
    assert "/quick/metrics.json" in step and "scripts/compare_with_main.sh" in step
    assert "--profile quick" in by_id["report"] and "cp output-quick/metrics.json site/quick/" in workflow


def fake_tools(tmp_path, served: str | None):
    """A `curl` that serves ``served`` (or fails, as for a site not yet published) and the CLI."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fetch = f'while [ "$1" != --output ]; do shift; done; cp "{served}" "$2"' if served else "exit 22"
    (bin_dir / "curl").write_text(f"#!/bin/sh\n{fetch}\n")
    (bin_dir / "cli").write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -c "from fmnist_report.cli import main; main()" "$@"\n'
    )
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FMNIST_REPORT": str(bin_dir / "cli")}


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX sh script, run on the Linux runner only")
@pytest.mark.parametrize("published", [True, False, "older"])
def test_the_comparison_script_appends_the_diff_or_one_line(pytestconfig, tmp_path, published):
    import json

    from fmnist_report.study.summary import summarize

    from .factories import make_results

    new = tmp_path / "metrics.json"
    new.write_text(summarize(make_results(tmp_path / "out")).to_json(), encoding="utf-8")
    main = tmp_path / "main.json"
    document = json.loads(new.read_text(encoding="utf-8"))
    document["models"]["dense"]["test_accuracy"]["mean"] -= 0.01
    if published == "older":  # main published a metrics.json of the release before the Summary
        document = {"summary": {"dense.accuracy.mean": 0.76}, "protocol": {"format": 1}}
    main.write_text(json.dumps(document), encoding="utf-8")
    summary = tmp_path / "summary.md"
    script = pytestconfig.rootpath / "scripts" / "compare_with_main.sh"
    url = "https://example.invalid/quick/metrics.json"
    env = fake_tools(tmp_path, str(main) if published else None)
    done = subprocess.run(
        ["sh", str(script), url, str(new), str(summary)], env=env, timeout=120, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    text = summary.read_text(encoding="utf-8")
    if published == "older":
        assert text == (
            "### Compared with main (quick profile)\n\n"
            f"No comparison with main: {url} has schema_version 1 (it names none: a release before the "
            "Summary wrote it), this version reads 2; build it again with this version, or read it with "
            "the release that wrote it\n"
        )
    elif published:
        assert text.startswith("### Compared with main (quick profile)\n")
        assert "| Number | Old | New | Change | Beyond seed noise |" in text
        assert "test accuracy, dense" in text
    else:
        assert text == f"No comparison with main: its quick metrics.json is not published at {url} yet.\n"


def test_a_real_data_test_that_skips_fails_ci_where_the_data_is(monkeypatch):
    """.ci/run sets FMNIST_REPORT_NO_SKIPS=1: a slow test skipped for a missing tool is a failure there."""
    from types import SimpleNamespace

    from . import conftest

    assert "FMNIST_REPORT_NO_SKIPS=1" in (Path(__file__).parent.parent / ".ci" / "run").read_text()
    monkeypatch.setattr(conftest, "_skipped_real", [])
    monkeypatch.setattr(conftest.data_mod, "files_in", lambda folder: object())  # the data is there
    skipped = SimpleNamespace(
        skipped=True,
        keywords={"slow": 1},
        nodeid="tests/test_build.py::test_pdf",
        longrepr=("f", 1, "no pdftotext"),
    )
    fast = SimpleNamespace(
        skipped=True, keywords={}, nodeid="tests/test_x.py::test_y", longrepr=("f", 1, "why")
    )
    conftest.pytest_runtest_logreport(fast)
    session = SimpleNamespace(exitstatus=0)
    monkeypatch.setenv(conftest.NO_SKIPS_ENV, "1")
    conftest.pytest_sessionfinish(session, 0)
    assert session.exitstatus == 0  # a fast test's skip is no real-data skip
    conftest.pytest_runtest_logreport(skipped)
    conftest.pytest_sessionfinish(session, 0)
    assert session.exitstatus == pytest.ExitCode.TESTS_FAILED
    assert conftest._skipped_real == ["tests/test_build.py::test_pdf: no pdftotext"]
    session.exitstatus = 0
    monkeypatch.delenv(conftest.NO_SKIPS_ENV)
    conftest.pytest_sessionfinish(session, 0)
    assert session.exitstatus == 0  # outside CI, a skip is reported, not failed
