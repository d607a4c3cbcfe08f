"""How the figures write numbers in captions and labels: percentages, ratios, counts, seeds.

One home for these until the report's shared number formats take them over.
"""

from __future__ import annotations

from collections.abc import Sequence


def pct(x: float, digits: int = 1) -> str:
    """0.8731 -> ``87.3%``."""
    return f"{x * 100:.{digits}f}%"


def span(values: Sequence[float], digits: int) -> str:
    """``1.8x`` or ``1.8x to 2.1x``."""
    lo, hi = f"{min(values):.{digits}f}x", f"{max(values):.{digits}f}x"
    return lo if lo == hi else f"{lo} to {hi}"


def count(n: float) -> str:
    """235146 -> ``235k``; 4200000 -> ``4.2M``."""
    if n >= 1e6:
        return f"{n / 1e6:.1f}M"
    if n >= 1e3:
        return f"{n / 1e3:.0f}k"
    return f"{n:.0f}"


def count_range(counts: Sequence[int]) -> str:
    """``6,000 per class`` or ``19 to 20 per class``."""
    lo, hi = min(counts), max(counts)
    return f"{lo:,} per class" if lo == hi else f"{lo:,} to {hi:,} per class"


def seeds_phrase(counts: Sequence[int]) -> str:
    """``3 seeds``, ``1 seed`` or ``1 to 3 seeds per model``."""
    lo, hi = min(counts), max(counts)
    if lo == hi:
        return f"{lo} seed" + ("s" if lo != 1 else "")
    return f"{lo} to {hi} seeds per model"
