"""CI: a test run that tests nothing fails."""

from __future__ import annotations

import os
import re
import subprocess


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
