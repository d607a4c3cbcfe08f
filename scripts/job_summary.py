"""Write the headline table of `fmnist-report run --json` as Markdown, for a CI job summary.

After a build: `fmnist-report run --json > summary.json`, then
`python scripts/job_summary.py summary.json >> "$GITHUB_STEP_SUMMARY"`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fmnist_report.errors import UserError
from fmnist_report.report.wording import comparison_sentence
from fmnist_report.study.summary_types import Summary
from fmnist_report.ui import SUMMARY_COLUMNS, summary_rows


def markdown(summary: Summary) -> str:
    """The per-model table and one line per comparison, as `fmnist-report run` prints them."""
    lines = [
        f"### Fashion-MNIST study ({summary.study.profile} profile)",
        "",
        "Test set; mean ± 95% CI half-width over seeds.",
        "",
        "| " + " | ".join(SUMMARY_COLUMNS) + " |",
        "|---" + "|--:" * (len(SUMMARY_COLUMNS) - 1) + "|",
    ]
    for cells in summary_rows(summary):
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    lines.append("")
    lines += [f"- {comparison_sentence(comparison)}" for comparison in summary.comparisons.values()]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(
            "usage: job_summary.py SUMMARY.json (the output of `fmnist-report run --json`)", file=sys.stderr
        )
        return 2
    try:
        summary = Summary.from_dict(json.loads(Path(argv[0]).read_text(encoding="utf-8")), argv[0])
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(
            f"error: cannot read {argv[0]} ({exc}); write it with `fmnist-report run --json`", file=sys.stderr
        )
        return 1
    sys.stdout.write(markdown(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
