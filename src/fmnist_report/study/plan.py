"""The study plan: which training runs the chosen parts of the study need."""

from __future__ import annotations

from collections.abc import Iterable

from fmnist_report import data as data_mod
from fmnist_report.config import Config
from fmnist_report.errors import ConfigError
from fmnist_report.study.results import HEADLINE_KERNEL
from fmnist_report.study.training import RunSpec, spec_for

#: The parts of the study `--only` can pick.
PARTS = ("eda", "dense", "cnn", "kernels", "locality", "interpret")


def parts(only: Iterable[str] | None) -> set[str]:
    """The chosen parts; a ConfigError names an unknown one."""
    chosen = set(only or PARTS)
    unknown = chosen - set(PARTS)
    if unknown:
        raise ConfigError(f"--only: unknown part {sorted(unknown)[0]!r}; choose from {', '.join(PARTS)}")
    return chosen


def plan(config: Config, data: data_mod.Dataset, only: Iterable[str] | None = None) -> list[RunSpec]:
    """Every training run the chosen parts need, each exactly once.

    The CNN of the comparison and the 3x3 arm of the kernel study share one spec, so they
    are one run. The locality check (pixels permuted) uses the first seed only.
    """
    chosen = parts(only)
    s = config.study
    specs: list[RunSpec] = []
    for seed in s.seed_list:
        if "dense" in chosen:
            specs.append(spec_for(s, data, "dense", seed))
        if "cnn" in chosen:
            specs.append(spec_for(s, data, "cnn", seed, kernel_size=HEADLINE_KERNEL))
        if "kernels" in chosen:
            specs.extend(spec_for(s, data, "cnn", seed, kernel_size=k) for k in s.kernel_sizes)
    if "locality" in chosen:
        seed = s.first_seed
        specs.append(spec_for(s, data, "dense", seed, permutation_seed=seed))
        specs.append(spec_for(s, data, "cnn", seed, kernel_size=HEADLINE_KERNEL, permutation_seed=seed))
    unique: dict[str, RunSpec] = {}
    for spec in specs:
        unique.setdefault(spec.key, spec)
    return list(unique.values())
