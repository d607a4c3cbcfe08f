"""Statistics over training seeds: t-intervals, McNemar's exact test, Holm's correction, the verdict and its power.

The words for a verdict are the report's (`report.wording`); this module only decides it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
from scipy import optimize
from scipy import stats as sps

from fmnist_report.study.summary_types import McNemarTest, PowerFound, SeedStats


@dataclass(frozen=True)
class Summary:
    """Mean, sample standard deviation and Student-t interval of a few per-seed values."""

    n: int
    mean: float
    std: float
    ci_low: float
    ci_high: float
    confidence: float
    has_ci: bool

    def to_dict(self) -> SeedStats:
        """Plain values for JSON."""
        return cast("SeedStats", dataclasses.asdict(self))


@dataclass(frozen=True)
class McNemar:
    """McNemar's exact test of two models' paired predictions on one test set.

    ``b`` counts examples only model A gets right, ``c`` those only model B gets right;
    ``diff`` is ``acc_b - acc_a``; ``odds_ratio`` is ``c / b``, computed as
    ``(c + 0.5) / (b + 0.5)`` when ``odds_ratio_corrected`` is True.
    """

    n: int
    b: int
    c: int
    p_value: float
    acc_a: float
    acc_b: float
    diff: float
    odds_ratio: float
    odds_ratio_corrected: bool

    def to_dict(self) -> McNemarTest:
        """Plain values for JSON."""
        return cast("McNemarTest", dataclasses.asdict(self))


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")


def summarize(values: Sequence[float], confidence: float = 0.95) -> Summary:
    """Summarise per-seed values: mean, sample std (ddof=1) and a Student-t interval.

    With one value the std is 0.0 and the interval is degenerate (low = high = mean)
    with ``has_ci`` False, because one seed says nothing about seed-to-seed spread.
    """
    _check_confidence(confidence)
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"values must be a non-empty 1-D sequence, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"values must all be finite, got {arr.tolist()}")
    n = int(arr.size)
    mean = float(arr.mean())
    if n == 1:
        return Summary(n, mean, 0.0, mean, mean, confidence, has_ci=False)
    std = float(arr.std(ddof=1))
    half = float(sps.t.ppf((1.0 + confidence) / 2.0, n - 1)) * std / math.sqrt(n)
    return Summary(n, mean, std, mean - half, mean + half, confidence, has_ci=True)


def paired_difference(
    a_values: Sequence[float], b_values: Sequence[float], confidence: float = 0.95
) -> Summary:
    """Summarise the per-seed differences ``b - a`` of a metric measured on the same seeds."""
    a = np.asarray(a_values, dtype=float)
    b = np.asarray(b_values, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"a_values and b_values must pair up seed by seed, got {a.size} and {b.size} values")
    return summarize(b - a, confidence)


def _as_correct(name: str, arr: np.ndarray) -> np.ndarray:
    out = np.asarray(arr)
    if out.dtype != np.bool_:
        raise ValueError(f"{name} must be a boolean array (True = correct), got dtype {out.dtype}")
    if out.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one entry per test example), got shape {out.shape}")
    if out.size == 0:
        raise ValueError(f"{name} must not be empty")
    return out


def mcnemar_exact(correct_a: np.ndarray, correct_b: np.ndarray) -> McNemar:
    """McNemar's exact two-sided test on paired per-example correctness of models A and B.

    The p-value is the exact binomial test of min(b, c) out of b + c at p = 0.5 (1.0 when
    the models never disagree). The odds ratio c / b uses a 0.5 continuity correction,
    (c + 0.5) / (b + 0.5), when b or c is zero, and says so in ``odds_ratio_corrected``.
    """
    a = _as_correct("correct_a", correct_a)
    b_arr = _as_correct("correct_b", correct_b)
    if a.size != b_arr.size:
        raise ValueError(
            f"correct_a and correct_b must cover the same test set, got lengths {a.size} and {b_arr.size}"
        )
    b = int(np.count_nonzero(a & ~b_arr))
    c = int(np.count_nonzero(~a & b_arr))
    p = 1.0 if b + c == 0 else float(sps.binomtest(min(b, c), b + c, 0.5).pvalue)
    corrected = b == 0 or c == 0
    odds = (c + 0.5) / (b + 0.5) if corrected else c / b
    acc_a = float(a.mean())
    acc_b = float(b_arr.mean())
    return McNemar(
        n=int(a.size),
        b=b,
        c=c,
        p_value=min(p, 1.0),
        acc_a=acc_a,
        acc_b=acc_b,
        diff=acc_b - acc_a,
        odds_ratio=odds,
        odds_ratio_corrected=corrected,
    )


def mcnemar_per_seed(pairs: Iterable[tuple[np.ndarray, np.ndarray]]) -> list[McNemar]:
    """One McNemar test per seed, from ``(correct_a, correct_b)`` pairs in seed order."""
    return [mcnemar_exact(a, b) for a, b in pairs]


def worst_p(tests: Sequence[McNemar]) -> float:
    """The largest p-value: every seed is significant at alpha iff this is below alpha."""
    if not tests:
        raise ValueError("worst_p needs at least one McNemar test, got none")
    return max(t.p_value for t in tests)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given.

    With the m p-values sorted, p(1) <= ... <= p(m), the i-th adjusted value is the running
    maximum of (m - j + 1) * p(j) over j <= i, capped at 1. Rejecting where the adjusted
    value is below alpha keeps the chance of any false rejection in the family at most alpha.
    """
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1 or not np.all((p >= 0.0) & (p <= 1.0)):
        raise ValueError(f"p_values must be a 1-D sequence of values in [0, 1], got {list(p_values)!r}")
    order = np.argsort(p, kind="stable")
    scaled = (p.size - np.arange(p.size)) * p[order]
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted.tolist()


#: Per-seed values that differ by less than this, relative to their size (or absolutely,
#: near zero), differ by floating-point rounding alone: accuracies of k/10,000 subtract to
#: differences whose spread is about 1e-17 where every seed gave the same difference.
SPREAD_RTOL = 1e-9
SPREAD_ATOL = 1e-12


def negligible(value: float, scale: float = 0.0) -> bool:
    """Whether ``value`` is rounding noise next to ``scale`` (or next to nothing)."""
    return abs(value) <= SPREAD_ATOL + SPREAD_RTOL * abs(scale)


def has_spread(diff: Summary) -> bool:
    """Whether the seeds' values differ by more than rounding: two seeds or more, a real std."""
    return diff.n >= 2 and not negligible(diff.std, diff.mean)


def paired_t_p(diff: Summary) -> float:
    """Two-sided p of the paired t-test over seeds: is the mean per-seed difference zero?

    It needs two seeds or more (NaN for one). Differences with no spread at all give 1.0 when
    they are all zero and 0.0 otherwise, the limits of the test as the spread shrinks.
    """
    if diff.n < 2:
        return math.nan
    if not has_spread(diff):
        return 1.0 if negligible(diff.mean) else 0.0
    t = diff.mean / (diff.std / math.sqrt(diff.n))
    return float(2.0 * sps.t.sf(abs(t), diff.n - 1))


def decision_p(diff: Summary, tests: Sequence[McNemar]) -> tuple[float, str]:
    """The p-value a verdict is decided on, and the test it comes from.

    With several seeds it is the paired t-test over seeds (``t``), which accounts for training
    randomness and whose power grows with the seeds; with one seed, or seeds that all gave the
    same difference (up to rounding: :func:`has_spread`), there is no spread to test, and McNemar's test of the seeds' predictions
    (``mcnemar``, the largest p) decides.
    """
    if has_spread(diff):
        return paired_t_p(diff), "t"
    return worst_p(tests), "mcnemar"


def is_significant(
    diff: Summary, tests: Sequence[McNemar], *, alpha: float = 0.05, p_value: float | None = None
) -> bool:
    """Whether B differs from A: the decision p (:func:`decision_p`) below ``alpha``.

    ``p_value`` is that p adjusted for the other comparisons of its family (:func:`holm`).
    With several seeds and no adjustment the verdict is exactly "the (1 - alpha) t-interval of
    the difference excludes zero", so it can never contradict the interval printed beside it.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    p = decision_p(diff, tests)[0] if p_value is None else p_value
    return bool(p < alpha and not negligible(diff.mean))  # no direction, no claim


def t_power(effect: float, n: int, alpha: float) -> float:
    """Power of the two-sided paired t-test with ``n`` seeds at level ``alpha``.

    ``effect`` is the true mean difference in units of the per-seed standard deviation
    (Cohen's d); the statistic then follows a noncentral t with n - 1 degrees of freedom and
    noncentrality d * sqrt(n).
    """
    if n < 2:
        raise ValueError(f"the paired t-test needs at least 2 seeds, got {n}")
    df = n - 1
    critical = sps.t.ppf(1.0 - alpha / 2.0, df)
    nc = abs(effect) * math.sqrt(n)
    upper = float(sps.nct.sf(critical, df, nc))
    lower = float(sps.nct.cdf(-critical, df, nc))  # far in the tail it can come back NaN: it is ~0
    return min(1.0, upper + (0.0 if math.isnan(lower) else lower))


def minimum_effect(n: int, alpha: float, power: float = 0.8) -> float:
    """The smallest effect (Cohen's d) the paired t-test with ``n`` seeds detects with ``power``."""
    if not 0.0 < power < 1.0:
        raise ValueError(f"power must be strictly between 0 and 1, got {power!r}")
    high = 1.0
    while t_power(high, n, alpha) < power:
        high *= 2.0
    return float(optimize.brentq(lambda d: t_power(d, n, alpha) - power, 0.0, high, xtol=1e-10))


def seeds_needed(effect: float, alpha: float, power: float = 0.8, limit: int = 1000) -> int | None:
    """The fewest seeds with which the paired t-test detects ``effect`` (Cohen's d) with
    ``power`` at ``alpha``; None when more than ``limit`` would be needed (or the effect is 0)."""
    if effect == 0.0 or t_power(effect, limit, alpha) < power:
        return None
    low, high = 2, limit
    while low < high:  # power grows with n: the first n that reaches it
        mid = (low + high) // 2
        if t_power(effect, mid, alpha) >= power:
            high = mid
        else:
            low = mid + 1
    return low


@dataclass(frozen=True)
class Power:
    """What a comparison that found no difference could have found.

    ``detectable`` is the smallest true difference (in accuracy, like ``diff``) its seeds detect
    with ``power`` at level ``alpha``, from the observed per-seed spread ``std``; ``seeds`` is
    roughly how many seeds the observed difference would need (None: more than ``limit``).
    """

    alpha: float
    power: float
    n: int
    std: float
    detectable: float
    observed: float
    seeds: int | None
    limit: int

    def to_dict(self) -> PowerFound:
        return cast("PowerFound", dataclasses.asdict(self))


def power_of(diff: Summary, alpha: float, power: float = 0.8, limit: int = 1000) -> Power | None:
    """The detectable difference and the seeds needed, or None where the spread is unknown
    (one seed) or zero (every seed gave the same difference)."""
    if not has_spread(diff):
        return None
    effect = abs(diff.mean) / diff.std
    return Power(
        alpha=alpha,
        power=power,
        n=diff.n,
        std=diff.std,
        detectable=minimum_effect(diff.n, alpha, power) * diff.std,
        observed=diff.mean,
        seeds=seeds_needed(effect, alpha, power, limit),
        limit=limit,
    )
