"""CI: the GitHub workflow's promises, its job summary, and a test run that tests nothing failing."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess

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
    assert "pull_request:" in workflow and "run: make test" in by_id["test"]
    assert "$GITHUB_STEP_SUMMARY" in by_id["report"] and "fmnist-report run" in by_id["report"]
    assert "actions/upload-pages-artifact@" in by_id["report"]
    assert "actions/deploy-pages@" in by_id["deploy"] and "github-pages" in by_id["deploy"]
    assert "refs/heads/main" in by_id["deploy"] and "needs: [test, report]" in by_id["deploy"]


def test_only_the_deploy_job_may_write(workflow):
    assert re.search(r"^permissions: \{\}$", workflow, re.M)
    for job_id, block in jobs(workflow).items():
        writes = set(re.findall(r"^      ([\w-]+): write", block, re.M))
        assert writes == ({"pages", "id-token"} if job_id == "deploy" else set()), job_id


def test_the_job_summary_is_the_headline_table(pytestconfig, tmp_path):
    path = pytestconfig.rootpath / "scripts" / "job_summary.py"
    spec = importlib.util.spec_from_file_location("job_summary", path)
    job_summary = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(job_summary)
    summary = {"profile": "quick", **summarize(make_results(tmp_path)).to_dict()}
    text = job_summary.markdown(summary)
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| model | seeds | accuracy |")
    assert len(rows) == 1 + len(summary["models"])
    dense = next(m for m in summary["models"] if m["model_id"] == "dense")
    acc = dense["test_accuracy"]
    half = (acc["ci_high"] - acc["ci_low"]) / 2
    assert f"| {dense['label']} | {len(dense['seeds'])} | {acc['mean']:.4f} ± {half:.4f} |" in text
    assert all(f"- {comparison_sentence(c)}" in text for c in summary["comparisons"].values())


def test_make_test_fails_when_pytest_runs_no_test(pytestconfig):
    """.ci/run is `make test`; pytest's exit 5 (nothing ran) must fail it."""
    root = pytestconfig.rootpath
    assert re.search(r"^set -euo pipefail$", (root / ".ci" / "run").read_text(), re.M)
    assert re.search(r"^make test$", (root / ".ci" / "run").read_text(), re.M)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    env["PYTEST_ARGS"] = "-q -p no:cacheprovider -k no_test_has_this_name"
    done = subprocess.run(
        ["make", "-o", "system", "test"], cwd=root, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode != 0
    assert "deselected" in done.stdout and re.search(r"make: \*\*\* \[.*test\] Error 5", done.stderr)


def test_a_pull_request_is_compared_with_mains_published_quick_build(workflow):
    by_id = jobs(workflow)
    assert "PLACEHOLDER" not in workflow
    step = by_id["report"].split("- name: Compare with main\n", 1)[1].split("- name:", 1)[0]
    assert "if: github.event_name == 'pull_request'" in step
    assert "/quick/metrics.json" in step and "scripts/compare_with_main.sh" in step
    assert "--profile quick" in by_id["report"] and "cp output-quick/metrics.json site/quick/" in workflow


def fake_tools(tmp_path, served: str | None):
    """A `curl` that serves ``served`` (or fails, as for a site not yet published) and the CLI."""
    import sys

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


@pytest.mark.parametrize("published", [True, False])
def test_the_comparison_script_appends_the_diff_or_one_line(pytestconfig, tmp_path, published):
    import json

    from fmnist_report.report import metrics, protocol

    from .factories import make_context

    results, _, ctx = make_context(tmp_path / "out")
    new = tmp_path / "metrics.json"
    new.write_text(metrics.metrics_document(metrics.metrics_flat(ctx), protocol.protocol(results)))
    main = tmp_path / "main.json"
    document = json.loads(new.read_text())
    document["dense"]["accuracy.mean"] -= 0.01
    main.write_text(json.dumps(document))
    summary = tmp_path / "summary.md"
    script = pytestconfig.rootpath / "scripts" / "compare_with_main.sh"
    url = "https://example.invalid/quick/metrics.json"
    env = fake_tools(tmp_path, str(main) if published else None)
    done = subprocess.run(
        ["sh", str(script), url, str(new), str(summary)], env=env, timeout=120, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    text = summary.read_text()
    if published:
        assert text.startswith("### Compared with main (quick profile)\n")
        assert "| Number | Old | New | Change | Beyond seed noise |" in text
        assert "test accuracy, dense" in text
    else:
        assert text == f"No comparison with main: its quick metrics.json is not published at {url} yet.\n"
