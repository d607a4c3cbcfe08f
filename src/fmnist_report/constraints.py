"""Small constraint objects: each checks a value and writes its own description from its bounds.

The settings file, the command line and the variants' overrides validate with the same
objects, so a message always says what is allowed in the same words (the model is
scikit-learn's ``_param_validation``: ``Interval``, ``StrOptions``).
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from typing import Any

from fmnist_report.ids import NAME_LIMIT, NAME_PUNCTUATION, is_variant_name


class Constraint:
    """What a value must be: :meth:`accepts` decides, ``str`` says it in words."""

    def accepts(self, value: Any) -> bool:
        raise NotImplementedError

    @property
    def plural(self) -> str:
        """Several accepted values in words, as a list's description names its items."""
        return f"values, each {self}"


#: How much of a refused value an error message repeats.
ECHO_CHARS = 60


def is_number(value: Any) -> bool:
    """An int or a float, never a bool (which Python counts as an int)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def echo(value: Any) -> str:
    """A value as an error message shows it: its repr, cut short when it is long."""
    text = repr(value)
    if len(text) <= ECHO_CHARS:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else "cut short"
    return f"{text[:ECHO_CHARS]}... ({size})"


def is_name(key: Any) -> bool:
    """A settings key short and plain enough to repeat as it is in a message."""
    return isinstance(key, str) and key.isidentifier() and len(key) <= ECHO_CHARS


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _show(bound: float) -> str:
    return f"{bound:g}" if isinstance(bound, float) else f"{bound:,}" if bound >= 10_000 else str(bound)


@dataclass(frozen=True)
class Interval(Constraint):
    """A number between ``low`` and ``high``; ``integer`` asks for a whole number.

    ``closed`` names the ends that belong to the interval: ``both``, ``left``, ``right`` or ``neither``.
    """

    low: float
    high: float
    integer: bool = False
    closed: str = "both"

    def accepts(self, value: Any) -> bool:
        if not (_count(value) if self.integer else is_number(value)) or not math.isfinite(value):
            return False
        above = value >= self.low if self.closed in ("both", "left") else value > self.low
        below = value <= self.high if self.closed in ("both", "right") else value < self.high
        return above and below

    def __str__(self) -> str:
        kind = "an integer" if self.integer else "a number"
        if self.closed == "both":
            return f"{kind} from {_show(self.low)} to {_show(self.high)}"
        low = f"at least {_show(self.low)}" if self.closed == "left" else f"greater than {_show(self.low)}"
        high = f"at most {_show(self.high)}" if self.closed == "right" else f"less than {_show(self.high)}"
        return f"{kind} {low} and {high}"

    @property
    def plural(self) -> str:
        text = str(self).split(" ", 1)[1]  # "integer from 1 to 512"
        return text.replace("integer", "integers", 1).replace("number", "numbers", 1)


@dataclass(frozen=True)
class Options(Constraint):
    """One of a few strings."""

    options: tuple[str, ...]

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.options

    def __str__(self) -> str:
        return f"one of {', '.join(sorted(self.options))}"


@dataclass(frozen=True)
class Boolean(Constraint):
    """``true`` or ``false``."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool)

    def __str__(self) -> str:
        return "true or false"


@dataclass(frozen=True)
class ListOf(Constraint):
    """A list of ``low`` to ``high`` items, each accepted by ``item``; ``distinct`` forbids repeats."""

    item: Constraint
    low: int
    high: int
    distinct: bool = False
    example: str = ""

    def accepts(self, value: Any) -> bool:
        if not isinstance(value, list | tuple) or not self.low <= len(value) <= self.high:
            return False
        if self.distinct and len(set(value)) != len(value):
            return False
        return all(self.item.accepts(v) for v in value)

    def __str__(self) -> str:
        size = f"{self.low}" if self.low == self.high else f"{self.low} to {self.high}"
        distinct = "distinct " if self.distinct else ""
        example = f", such as {self.example}" if self.example else ""
        return f"a list of {size} {distinct}{self.item.plural}{example}"


@dataclass(frozen=True)
class OddInterval(Interval):
    """An odd integer between ``low`` and ``high``."""

    def accepts(self, value: Any) -> bool:
        return super().accepts(value) and value % 2 == 1

    def __str__(self) -> str:
        return f"an odd integer from {self.low} to {self.high}"

    @property
    def plural(self) -> str:
        return f"odd integers from {self.low} to {self.high}"


@dataclass(frozen=True)
class Optional(Constraint):
    """``inner``, or absent (``None``)."""

    inner: Constraint
    absent: str = "absent"

    def accepts(self, value: Any) -> bool:
        return value is None or self.inner.accepts(value)

    def __str__(self) -> str:
        return f"{self.inner}, or {self.absent}"


@dataclass(frozen=True)
class PlainText(Constraint):
    """Text of at most ``limit`` characters, none a control character or a lone surrogate.

    A control character (NUL, escape, a newline) would reach the HTML as it is, and a lone
    surrogate (an undecodable byte in a command-line argument) cannot be written as UTF-8.
    """

    limit: int = 300

    def accepts(self, value: Any) -> bool:
        return (
            isinstance(value, str)
            and len(value) <= self.limit
            and not any(unicodedata.category(c) in ("Cc", "Cs") for c in value)
        )

    def __str__(self) -> str:
        return f"text of at most {self.limit} characters without control characters"


@dataclass(frozen=True)
class Name(Constraint):
    """A variant's name, in the one alphabet `ids` decides for names, ids and placeholders."""

    def accepts(self, value: Any) -> bool:
        return is_variant_name(value)

    def __str__(self) -> str:
        return (
            f"a name of at most {NAME_LIMIT} letters, digits and {' '.join(NAME_PUNCTUATION)}, "
            "starting with a letter or digit"
        )
