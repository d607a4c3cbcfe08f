"""The study plan: which training runs the chosen parts of the study need."""

from __future__ import annotations

from collections.abc import Iterable

from fmnist_report import data as data_mod
from fmnist_report.config import Config, StudyConfig
from fmnist_report.errors import ConfigError
from fmnist_report.study.design import PARTS, Declaration, declarations
from fmnist_report.study.training import RunSpec, spec_for

__all__ = ["PARTS", "check_declared", "parts", "plan", "spec"]


def parts(only: Iterable[str] | None) -> set[str]:
    """The chosen parts; a ConfigError names an unknown one."""
    chosen = set(only or PARTS)
    unknown = chosen - set(PARTS)
    if unknown:
        raise ConfigError(f"--only: unknown part {sorted(unknown)[0]!r}; choose from {', '.join(PARTS)}")
    return chosen


def plan(config: Config, data: data_mod.Dataset, only: Iterable[str] | None = None) -> list[RunSpec]:
    """Every training run the chosen parts need, each exactly once: the declared models times the seeds.

    A model two parts need (the CNN of the comparison is also the 3x3 arm of the kernel study)
    is one run. The permuted-pixel twins of the locality check use the first seed only.
    """
    chosen = parts(only)
    s = config.study
    needed = [d for d in declarations(s) if d.parts & chosen]
    specs = [spec(s, data, d, seed) for seed in s.seed_list for d in needed if not d.first_seed_only]
    specs += [spec(s, data, d, s.first_seed) for d in needed if d.first_seed_only]
    unique: dict[str, RunSpec] = {}
    for one in specs:
        unique.setdefault(one.key, one)
    return list(unique.values())


def spec(study: StudyConfig, data: data_mod.Dataset, declared: Declaration, seed: int) -> RunSpec:
    """The run of one declared model on one seed."""
    m = declared.id
    return spec_for(
        study,
        data,
        m.arch,
        seed,
        kernel_size=m.kernel_size,
        permutation_seed=seed if m.permuted else None,
        variant=m.variant,
        overrides=declared.overrides,
    )


def check_declared(config: Config, only: Iterable[str] | None) -> None:
    """``--only variants`` of a study that declares none: a ConfigError that says how to declare one."""
    if only is None or "variants" not in parts(only) or config.study.variants:
        return
    where = f"in {config.settings_file}" if config.settings_file else "(no settings file was found)"
    raise ConfigError(
        f"--only variants: no variants are declared {where}; declare one in the settings file, e.g. "
        '[[variants]] base = "cnn" dropout = 0.3 (one key a line, as README\'s "Your own study: '
        'variants" shows; `fmnist-report variants --list` prints the keys)'
    )
