"""Call one benchmark function in this interpreter and write what it returns as JSON.

    python -m benchmarks.run_case benchmarks.MODULE:FUNCTION '{"keyword": "arguments"}' RESULT_FILE

`harness.run` starts this in a fresh interpreter for every measured run; the function is
ordinary, linted code in this folder, imported by name.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path


def main(argv: list[str]) -> None:
    if len(argv) != 3:
        raise SystemExit(__doc__)
    target, kwargs, result_file = argv
    module, _, name = target.partition(":")
    if not module.startswith("benchmarks.") or not name:
        raise SystemExit(f"not a benchmark function: {target!r} (benchmarks.MODULE:FUNCTION)")
    function = getattr(importlib.import_module(module), name)
    result = function(**json.loads(kwargs))
    Path(result_file).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
