"""Model identities: one small value with ``str`` and ``parse``; no other code reads id strings."""

from __future__ import annotations

import re
from dataclasses import dataclass

ARCHS = ("dense", "cnn")
PERMUTED_SUFFIX = "-permuted"
#: The one alphabet of a variant's name, which the settings, the model ids and the notes'
#: placeholders all read: ASCII letters and digits and these marks, starting with a letter or
#: digit, at most `NAME_LIMIT` characters. Each mark is one a default name writes
#: (``dropout=0.3,filters=16x32``, ``learning_rate=1e-05``) or a word joins with.
NAME_PUNCTUATION = "_.=,+-"
NAME_LIMIT = 40
#: A variant's name as a regular expression, for the patterns that read ids out of text.
NAME_PATTERN = rf"[A-Za-z0-9][A-Za-z0-9{re.escape(NAME_PUNCTUATION)}]{{0,{NAME_LIMIT - 1}}}"
#: A model id as a regular expression (`ModelId.parse` anchors it; the notes' placeholders embed it).
ID_PATTERN = rf"(?:(dense)|cnn(\d+))(-permuted)?(?:\[({NAME_PATTERN})\])?"
_PATTERN = re.compile(ID_PATTERN, re.ASCII)


def is_variant_name(text: object) -> bool:
    """Whether ``text`` is a name a variant may have (`NAME_PUNCTUATION`, `NAME_LIMIT`)."""
    return isinstance(text, str) and re.fullmatch(NAME_PATTERN, text, re.ASCII) is not None


@dataclass(frozen=True, order=True)
class ModelId:
    """Which network was trained: architecture, kernel size (CNNs only), pixel order and variant.

    ``str`` gives the short name every seed shares (``dense``, ``cnn3``, ``cnn5-permuted``,
    ``cnn3[dropout=0.3]``); :meth:`parse` reads it back. A variant keeps its base's
    architecture and kernel size in the id; what it changes is its declaration's.
    """

    arch: str
    kernel_size: int | None = None
    permuted: bool = False
    variant: str | None = None

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"unknown architecture {self.arch!r}; choose from {', '.join(ARCHS)}")
        if (self.arch == "cnn") != (self.kernel_size is not None):
            raise ValueError(
                f"a kernel size goes with a CNN and only with one: {self.arch}, {self.kernel_size}"
            )
        if self.kernel_size is not None and self.kernel_size < 1:
            raise ValueError(f"kernel size must be positive, got {self.kernel_size}")
        if self.variant is not None and not is_variant_name(self.variant):
            raise ValueError(
                f"a variant name is 1 to {NAME_LIMIT} ASCII letters, digits and {NAME_PUNCTUATION}, "
                f"starting with a letter or digit; got {self.variant!r}"
            )

    @classmethod
    def parse(cls, text: str) -> ModelId:
        """The id written as ``str(ModelId)``; a ValueError for anything else."""
        match = _PATTERN.fullmatch(text)
        if match is None:
            raise ValueError(
                f"not a model id: {text!r} (expected dense, cnnK or either with -permuted or [variant])"
            )
        dense, size, permuted, variant = match.groups()
        return cls("dense" if dense else "cnn", None if dense else int(size), permuted is not None, variant)

    def __str__(self) -> str:
        base = "dense" if self.arch == "dense" else f"cnn{self.kernel_size}"
        return (
            base + (PERMUTED_SUFFIX if self.permuted else "") + (f"[{self.variant}]" if self.variant else "")
        )

    @property
    def label(self) -> str:
        """How the report names the model: ``Dense``, ``CNN 5x5``, ``CNN 3x3 (permuted pixels)``,
        ``CNN 3x3 [dropout=0.3]``."""
        base = "Dense" if self.arch == "dense" else f"CNN {self.kernel_size}x{self.kernel_size}"
        return (
            base
            + (" (permuted pixels)" if self.permuted else "")
            + (f" [{self.variant}]" if self.variant else "")
        )

    @property
    def is_cnn(self) -> bool:
        return self.arch == "cnn"

    @property
    def is_variant(self) -> bool:
        return self.variant is not None

    def twin(self) -> ModelId:
        """The same network trained on permuted pixels."""
        return ModelId(self.arch, self.kernel_size, True, self.variant)

    def original(self) -> ModelId:
        """The same network on the original pixel order."""
        return ModelId(self.arch, self.kernel_size, False, self.variant)

    def base(self) -> ModelId:
        """The built-in model a variant starts from (itself for a built-in one)."""
        return ModelId(self.arch, self.kernel_size, self.permuted)


DENSE = ModelId("dense")


def cnn(kernel_size: int) -> ModelId:
    """The CNN with ``kernel_size`` x ``kernel_size`` kernels, original pixels."""
    return ModelId("cnn", kernel_size)


def is_builtin(name: str) -> bool:
    """Whether ``name`` is the id of a built-in model (``dense``, ``cnn5``, ``cnn3-permuted``...)."""
    try:
        return ModelId.parse(name).variant is None
    except ValueError:
        return False
