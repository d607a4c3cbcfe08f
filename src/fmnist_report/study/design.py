"""The study as data: which models it trains, on which seeds, and which comparisons it makes.

Every model of a build is one :class:`Declaration`; `study.plan` loops over them times the
seeds, `StudyResults.roles` reads them, and the families of comparisons are entries of
:data:`FAMILIES`. The built-in study (the baseline, the headline CNN, the kernel arms and the
permuted twins) is declared here like a student's own variants.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fmnist_report import ids
from fmnist_report.config import StudyConfig
from fmnist_report.ids import ModelId
from fmnist_report.study.summary_types import FAMILY_WORDS, Roles

__all__ = ["FAMILIES", "HEADLINE_KERNEL", "Declaration", "Family", "Roles", "declarations", "roles"]

#: The kernel size of the study's CNN: the one compared with the baseline (section 3),
#: exported, inspected by the analyses, and the base of every CNN variant.
HEADLINE_KERNEL = 3
#: The parts of the study `--only` can pick.
PARTS = ("eda", "dense", "cnn", "kernels", "locality", "variants", "interpret")


@dataclass(frozen=True)
class Declaration:
    """One model of the study.

    Attributes:
        id: its model id.
        parts: the parts of the study (`PARTS`) that need it.
        first_seed_only: trained on the first seed alone (the permuted-pixel twins).
        base: the model a variant is compared with; None for a built-in model.
        overrides: a variant's overrides, in vocabulary order.
    """

    id: ModelId
    parts: frozenset[str]
    first_seed_only: bool = False
    base: ModelId | None = None
    overrides: tuple[tuple[str, Any], ...] = ()


def declarations(study: StudyConfig) -> tuple[Declaration, ...]:
    """Every model the study declares, in the order the plan trains them on each seed."""
    headline = ids.cnn(HEADLINE_KERNEL)
    arms = [ids.cnn(k) for k in study.kernel_sizes]
    # A variant's base is trained for the variants too: they are compared with it.
    bases = {v.base for v in study.variants}
    variants = frozenset({"variants"})
    out = [Declaration(ids.DENSE, frozenset({"dense"}) | (variants if "dense" in bases else frozenset()))]
    headline_parts = {
        "cnn",
        *(["kernels"] if headline in arms else []),
        *(["variants"] if "cnn" in bases else []),
    }
    out.append(Declaration(headline, frozenset(headline_parts)))
    out += [Declaration(m, frozenset({"kernels"})) for m in arms if m != headline]
    for v in study.variants:
        base = ids.DENSE if v.base == "dense" else headline
        out.append(
            Declaration(
                ModelId(base.arch, base.kernel_size, variant=v.name),
                variants,
                base=base,
                overrides=v.overrides,
            )
        )
    out += [
        Declaration(m.twin(), frozenset({"locality"}), first_seed_only=True) for m in (ids.DENSE, headline)
    ]
    return tuple(out)


def roles(study: StudyConfig, present: set[str]) -> Roles:
    """The part each trained model plays, from the declarations and the ids that ran."""
    declared = declarations(study)
    ran = [d for d in declared if str(d.id) in present]
    builtin = [d.id for d in ran if d.base is None and not d.id.permuted]
    # A CNN is exactly a model with a kernel size (ModelId checks it).
    cnns = dict(sorted((m.kernel_size, str(m)) for m in builtin if m.kernel_size is not None))
    headline = str(ids.cnn(HEADLINE_KERNEL)) if ids.cnn(HEADLINE_KERNEL) in builtin else None
    twins = {
        str(d.id.original()): str(d.id) for d in ran if d.id.permuted and str(d.id.original()) in present
    }
    return Roles(
        dense=str(ids.DENSE) if ids.DENSE in builtin else None,
        headline=headline,
        kernel_arms=tuple(str(ids.cnn(k)) for k in study.kernel_sizes if ids.cnn(k) in builtin),
        cnns=cnns,
        probe=headline or next(iter(cnns.values()), None),
        twins=twins,
        variants={str(d.id): str(d.base) for d in ran if d.base is not None and str(d.base) in present},
    )


@dataclass(frozen=True)
class Family:
    """A family of comparisons, corrected together with Holm's method.

    Attributes:
        name: its key in the Summary and metrics.json.
        words: what it covers, as Appendix A names it.
        pairs: ``(a, b)`` model ids it compares (B against A), from the roles.
    """

    name: str
    words: str
    pairs: Callable[[Roles], list[tuple[str | None, str | None]]]


def _kernel_pairs(roles: Roles) -> list[tuple[str | None, str | None]]:
    arms = roles.kernel_arms
    return [(a, b) for i, a in enumerate(arms) for b in arms[i + 1 :]]


def _locality_pairs(roles: Roles) -> list[tuple[str | None, str | None]]:
    dense, cnn = roles.dense, roles.headline
    pairs = [(m, roles.twins.get(m) if m else None) for m in (dense, cnn)]
    return [*pairs, (roles.twins.get(dense) if dense else None, roles.twins.get(cnn) if cnn else None)]


#: The families of pairwise comparisons, in report order. The shift experiment's four
#: directions are a family of their own, tested inside its analysis (`experiments.shift`).
FAMILIES: tuple[Family, ...] = (
    Family("architecture", FAMILY_WORDS["architecture"], lambda r: [(r.dense, r.headline)]),
    Family("kernels", FAMILY_WORDS["kernels"], _kernel_pairs),
    Family("locality", FAMILY_WORDS["locality"], _locality_pairs),
    Family(
        "variants",
        FAMILY_WORDS["variants"],
        lambda r: [(base, variant) for variant, base in r.variants.items()],
    ),
)
