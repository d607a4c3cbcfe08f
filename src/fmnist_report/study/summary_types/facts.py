"""The facts beside the measured numbers: roles, the data, provenance, and what a build adds.

`summary_types` re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# pydantic reads a TypedDict's keys from typing_extensions' on Python 3.11.
from typing_extensions import TypedDict

from fmnist_report.study.summary_types.rows import Machine


@dataclass(frozen=True)
class Roles:
    """Which trained model plays which part in the report; ``None`` where it did not run.

    Attributes:
        dense: the dense baseline.
        headline: the CNN of the comparison, the one exported.
        kernel_arms: the kernel-size study's CNNs, in the configured order.
        cnns: every built-in CNN on the original pixels by kernel size, smallest first.
        probe: the CNN the analyses inspect: the headline CNN, else the smallest.
        twins: each model that has a permuted-pixel twin, mapped to it.
        variants: each declared variant that ran, mapped to its base.
    """

    dense: str | None
    headline: str | None
    kernel_arms: tuple[str, ...]
    cnns: dict[int, str]
    probe: str | None
    twins: dict[str, str]
    variants: dict[str, str]


@dataclass(frozen=True)
class DataFacts:
    """What the study was trained and tested on.

    Attributes:
        class_names: the classes, in label order.
        n_train: training images before the validation split; ``n_test`` test images.
        n_fit: the images the models were fitted on after the split; ``n_val`` those held out
            for validation (the same for every run of a build).
        subset: ``full``, or how the quick profile subsampled (per class).
        image_side: the images' side in pixels.
        source: where the files were read, as the report prints the path.
        fingerprint: the content fingerprint that keys every stored run.
        checksums: each file's MD5.
        eda: the exploration's measurements (counts, pixel statistics); None where it did not run.
    """

    class_names: tuple[str, ...]
    n_train: int
    n_test: int
    n_fit: int
    n_val: int
    subset: str
    image_side: int
    source: str
    fingerprint: str
    checksums: dict[str, str]
    eda: dict[str, Any] | None = None


@dataclass(frozen=True)
class Provenance:
    """Where and how the runs were made.

    Attributes:
        platform: where they trained, as the report names it (``TensorFlow on CPU``).
        backends: the Keras backend each run names; ``devices`` likewise.
        precisions: the numeric precisions the runs used, sorted.
        machines: each machine that trained runs, in the order first met.
        fmnist_report: the version of this tool that summarised the runs.
    """

    platform: str
    backends: tuple[str, ...]
    devices: tuple[str, ...]
    precisions: tuple[str, ...]
    machines: tuple[Machine, ...]
    fmnist_report: str


class TopClass(TypedDict):
    """One class of a sample prediction, and the probability the model gave it."""

    name: str
    probability: float


class Prediction(TypedDict):
    """The exported model's top classes for one test image."""

    #: The image's index in the test set; ``true`` its class.
    index: int
    true: str
    top: list[TopClass]


@dataclass(frozen=True)
class Environment:
    """The machine and the package versions the report was built with (Appendix A).

    Attributes:
        versions: each reported package's version, by name.
        platform: the operating system and architecture; ``cpu`` the processor's name.
        threads: TensorFlow's ``intra_op`` and ``inter_op`` thread settings.
        isa_cap: the oneDNN instruction-set cap the runs' keys name, or None.
    """

    versions: dict[str, str]
    platform: str
    cpu: str
    logical_cpus: int
    threads: dict[str, int]
    isa_cap: str | None = None
    #: This machine as each run's record names its machine, to tell which runs it trained.
    machine: dict[str, str | int | float | None] | None = None


@dataclass(frozen=True)
class Deployment:
    """What the build exported and what the export predicts (section 6).

    Attributes:
        model_dir: the export's folder, as the report prints it (relative where it can be).
        export: the export's metadata (`serving.export`), or None where nothing was exported.
        predictions: the exported model's top classes for the first test image of each class;
            their thumbnails are in :attr:`Summary.pictures` under ``"predictions"``.
    """

    model_dir: str
    export: dict[str, Any] | None
    predictions: tuple[Prediction, ...]


@dataclass(frozen=True)
class Built:
    """What the build added to the study's numbers: the machine it ran on and the export."""

    environment: Environment
    deployment: Deployment
