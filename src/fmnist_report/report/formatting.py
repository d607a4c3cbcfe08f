"""Every number format of the report and the terminal, and the Jinja filters made of them.

Prose, figure captions and labels, templates and the terminal's tables print numbers only
through these functions, so a value reads the same wherever it appears; :data:`FILTERS`
registers them with the report's Jinja environment. Only the standard library is imported
here, so the command line can use these formats without loading the rest of the report.
Folders are printed through `fmnist_report.paths.printable_path` alone, so no report names this
machine's home.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

# -- fractions and percentage points ----------------------------------------------------------


def pct(x: float, digits: int = 2) -> str:
    """A fraction as a percentage: 0.7412 -> ``74.12%``."""
    return f"{x * 100:.{digits}f}%"


def points(x: float) -> str:
    """A difference of fractions in percentage points, one decimal, no unit: 0.029 -> ``2.9``.

    A difference that rounds to zero is ``0.0``, never ``-0.0``.
    """
    if not math.isfinite(x):
        raise ValueError(f"difference must be finite, got {x!r}")
    text = f"{x * 100:.1f}"
    return "0.0" if text == "-0.0" else text


def pp(x: float) -> str:
    """A difference of fractions in signed percentage points: 0.029 -> ``+2.9 pp``, 0 -> ``0.0 pp``."""
    text = points(x)
    return f"{text} pp" if text.startswith("-") or text == "0.0" else f"+{text} pp"


def pvalue(p: float) -> str:
    """A p-value: ``p < 0.001`` below 0.001, else two significant figures (``p = 0.041``)."""
    if not 0.0 <= p <= 1.0:  # also rejects NaN
        raise ValueError(f"p-value must be between 0 and 1, got {p!r}")
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:#.2g}"


# -- counts, ratios and measured values --------------------------------------------------------


def num(x: float, digits: int = 0, *, grouped: bool = True) -> str:
    """A number with thousands separators: 235146 -> ``235,146``; ``grouped=False`` leaves them
    out, as the terminal's tables and progress lines print: ``235146``."""
    return f"{x:{',' if grouped else ''}.{digits}f}"


def times(x: float, digits: int = 1) -> str:
    """A multiple as the figures write it, with a plain x: 1.84 -> ``1.8x``."""
    return f"{x:.{digits}f}x"


def compact(n: float) -> str:
    """A large count in thousands or millions, as figure labels write it: 235146 -> ``235k``,
    4200000 -> ``4.2M``, 512 -> ``512``."""
    if n >= 1e6:
        return f"{n / 1e6:.1f}M"
    if n >= 1e3:
        return f"{n / 1e3:.0f}k"
    return f"{n:.0f}"


def sig(x: float, digits: int = 2) -> str:
    """A value to ``digits`` significant figures: 0.02514 -> ``0.025``; zero is ``0``, never ``-0``."""
    text = f"{x:.{digits}g}"
    return "0" if text == "-0" else text


def ratio(x: float) -> str:
    """A ratio of two costs: 18.13 -> ``18.1×``, 0.25 -> ``0.25×``."""
    if x >= 100:
        return f"{x:,.0f}×"
    return f"{x:.1f}×" if x >= 1 else f"{x:.2f}×"


def rel_error(x: float | None) -> str:
    """A relative error: ``0`` when exact, scientific below 0.001, else three decimals; ``n/a`` if unmeasured."""
    if x is None:
        return "n/a"
    if x == 0:
        return "0"
    return f"{x:.1e}" if x < 1e-3 else f"{x:.3f}"


#: Decimals of a per-seed summary by unit, and what is written after the number.
_UNIT_DIGITS = {"pct": 2, "num": 4, "s": 1, "ms": 3}
_UNIT_SUFFIX = {"pct": "%", "num": "", "s": " s", "ms": " ms"}


def mean_ci(
    summary: Mapping[str, Any], unit: str = "pct", digits: int | None = None, *, grouped: bool = True
) -> str:
    """A per-seed summary as ``mean ± 95% CI half-width``; only the mean when there is no interval.

    Args:
        unit: ``pct`` (fractions shown as percentages), ``num`` (plain numbers), ``s``
            (seconds) or ``ms`` (milliseconds).
        digits: decimals; the unit's default when None.
        grouped: thousands separators, as :func:`num`.
    """
    if unit not in _UNIT_DIGITS:
        raise ValueError(f"unit must be one of {', '.join(_UNIT_DIGITS)}, got {unit!r}")
    d = _UNIT_DIGITS[unit] if digits is None else digits
    scale = 100.0 if unit == "pct" else 1.0
    suffix = _UNIT_SUFFIX[unit]
    text = num(summary["mean"] * scale, d, grouped=grouped)
    if summary["has_ci"]:
        half = (summary["ci_high"] - summary["ci_low"]) / 2 * scale
        # A percentage carries its sign on both numbers, so neither reads as a fraction.
        text += f"{suffix if unit == 'pct' else ''} ± {num(half, d, grouped=grouped)}"
    return text + suffix


def change(x: float, unit: str = "pct") -> str:
    """A signed change of a value in ``unit`` (as :func:`mean_ci`; ``pp`` for a difference of
    fractions): ``+1.2 pp``, ``-0.0031``, ``+4.2 s``."""
    if unit in ("pct", "pp"):
        return pp(x)
    if unit not in _UNIT_DIGITS:
        raise ValueError(f"unit must be one of {', '.join(_UNIT_DIGITS)}, got {unit!r}")
    text = f"{x:+,.{_UNIT_DIGITS[unit]}f}"
    text = text.replace("-", "+", 1) if float(text.replace(",", "")) == 0 else text  # no -0.0
    return text + _UNIT_SUFFIX[unit]


def fmt(value: Any, kind: str) -> str:
    """A value by kind: a per-seed summary (``pct``, ``num``, ``s``, ``ms``) or a count (``int``)."""
    if kind == "int":
        return num(value)
    if isinstance(value, Mapping):
        return mean_ci(value, kind)
    if kind == "pct":
        return pct(value)
    return num(value, {"num": 4, "s": 1, "ms": 3}.get(kind, 0))


def shape(dims: list[int]) -> str:
    """An array shape: [60000, 28, 28] -> ``60,000 × 28 × 28``."""
    return " × ".join(num(d) for d in dims)


def filesize(n: int) -> str:
    """Bytes in binary units: 1536 -> ``1.5 KiB``."""
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def cell(value: Any) -> str:
    """A table cell of unknown kind: integers with separators, floats to four significant figures."""
    if isinstance(value, bool) or value is None:
        return "yes" if value is True else "no" if value is False else "–"
    if isinstance(value, int):
        return num(value)
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value)


def running_title(text: str, width: int = 56) -> str:
    """A title short enough for the running head: cut at ``width`` columns with an ellipsis.

    Wide characters (Chinese, Japanese, Korean, emoji) count as two columns, as they print.
    """
    used = 0
    for i, char in enumerate(text):
        used += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
        if used > width:
            return text[:i].rstrip() + "…"
    return text


# -- lists and counts in prose -----------------------------------------------------------------


def span(values: Sequence[float], format_one: Callable[[float], str]) -> str:
    """The range of some values as ``low to high``, or one value when both ends print the same."""
    low, high = format_one(min(values)), format_one(max(values))
    return low if low == high else f"{low} to {high}"


def join_words(items: Sequence[str]) -> str:
    """A list in prose: ``a``, ``a and b``, ``a, b and c``; nothing for no items."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def plural(n: int, noun: str) -> str:
    """A count and its noun: ``1 seed``, ``3 seeds``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


#: The template filters, registered by name with the report's Jinja environment: every format
#: of this module that takes a value first (all but :func:`span`, whose second argument is a
#: format). Every number in the HTML passes through one of these.
FILTERS: dict[str, Callable[..., str]] = {
    "pct": pct,
    "pp": pp,
    "points": points,
    "pvalue": pvalue,
    "num": num,
    "times": times,
    "compact": compact,
    "sig": sig,
    "ratio": ratio,
    "rel_error": rel_error,
    "mean_ci": mean_ci,
    "change": change,
    "fmt": fmt,
    "shape": shape,
    "filesize": filesize,
    "cell": cell,
    "running_title": running_title,
    "join_words": join_words,
    "plural": plural,
}
