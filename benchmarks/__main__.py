"""python -m benchmarks CASE [options]: run one case of the suite and append its result to
output/bench/CASE.jsonl (the machine, the medians, the ratios). ``--quick`` is a smoke run
of a few seconds with tiny sizes; docs/performance.md has the figures of the full runs."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from benchmarks import harness

#: The suite's modules, each declaring its cases in ``CASES``.
MODULES = ("study_bench", "platform_bench", "serve_bench", "jobs_bench", "profile_kernels")


def cases() -> dict[str, harness.Case]:
    found: dict[str, harness.Case] = {}
    for name in MODULES:
        for case in importlib.import_module(f"benchmarks.{name}").CASES:
            found[case.name] = case
    return found


def parser(suite: dict[str, harness.Case]) -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = top.add_subparsers(dest="case", required=True, metavar="CASE", title="cases")
    for case in suite.values():
        p = sub.add_parser(
            case.name,
            help=case.summary,
            description=sys.modules[case.measure.__module__].__doc__ or case.summary,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("--quick", action="store_true", help=f"a smoke run: {' '.join(case.quick) or 'as is'}")
        p.add_argument("--repeat", type=int, default=1, help="runs of each side, taking turns; medians kept")
        p.add_argument(
            "--results",
            type=Path,
            default=harness.RESULTS,
            help="folder of the JSON lines (default: output/bench)",
        )
        case.add_arguments(p)
    return top


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    suite = cases()
    if argv and argv[0] in suite and "--quick" in argv:  # the quick sizes first: the user's own win
        argv = [argv[0], *suite[argv[0]].quick, *argv[1:]]
    args = parser(suite).parse_args(argv)
    case = suite[args.case]
    machine = harness.machine()
    print(f"machine: {machine['line']}", flush=True)
    load = harness.load_average()
    result = case.measure(args)
    params = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "results"}
    path = harness.write(
        case.name,
        result,
        args.results,
        params=params,
        quick=args.quick,
        load_average={"before": load, "after": harness.load_average()},
    )
    print(f"result: one JSON line in {path}")
    if result.get("identical") is False:
        sys.exit("the sides' numbers differ where they must be identical")


if __name__ == "__main__":
    main()
