"""Model identities: one small value with ``str`` and ``parse``; no other code reads id strings."""

from __future__ import annotations

import re
from dataclasses import dataclass

ARCHS = ("dense", "cnn")
PERMUTED_SUFFIX = "-permuted"
_PATTERN = re.compile(r"^(?:(dense)|cnn(\d+))(-permuted)?$")


@dataclass(frozen=True, order=True)
class ModelId:
    """Which network was trained: architecture, kernel size (CNNs only) and pixel order.

    ``str`` gives the short name every seed shares (``dense``, ``cnn3``, ``cnn5-permuted``);
    :meth:`parse` reads it back.
    """

    arch: str
    kernel_size: int | None = None
    permuted: bool = False

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"unknown architecture {self.arch!r}; choose from {', '.join(ARCHS)}")
        if (self.arch == "cnn") != (self.kernel_size is not None):
            raise ValueError(
                f"a kernel size goes with a CNN and only with one: {self.arch}, {self.kernel_size}"
            )
        if self.kernel_size is not None and self.kernel_size < 1:
            raise ValueError(f"kernel size must be positive, got {self.kernel_size}")

    @classmethod
    def parse(cls, text: str) -> ModelId:
        """The id written as ``str(ModelId)``; a ValueError for anything else."""
        match = _PATTERN.match(text)
        if match is None:
            raise ValueError(f"not a model id: {text!r} (expected dense, cnnK or either with -permuted)")
        dense, size, permuted = match.groups()
        return cls("dense" if dense else "cnn", None if dense else int(size), permuted is not None)

    def __str__(self) -> str:
        base = "dense" if self.arch == "dense" else f"cnn{self.kernel_size}"
        return base + (PERMUTED_SUFFIX if self.permuted else "")

    @property
    def label(self) -> str:
        """How the report names the model: ``Dense``, ``CNN 5x5``, ``CNN 3x3 (permuted pixels)``."""
        base = "Dense" if self.arch == "dense" else f"CNN {self.kernel_size}x{self.kernel_size}"
        return base + (" (permuted pixels)" if self.permuted else "")

    @property
    def is_cnn(self) -> bool:
        return self.arch == "cnn"

    def twin(self) -> ModelId:
        """The same network trained on permuted pixels."""
        return ModelId(self.arch, self.kernel_size, True)

    def original(self) -> ModelId:
        """The same network on the original pixel order."""
        return ModelId(self.arch, self.kernel_size, False)


DENSE = ModelId("dense")


def cnn(kernel_size: int) -> ModelId:
    """The CNN with ``kernel_size`` x ``kernel_size`` kernels, original pixels."""
    return ModelId("cnn", kernel_size)
