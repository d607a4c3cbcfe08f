"""The SageMaker TensorFlow Serving images: which version serves an export, where it lives, what runs it.

AWS publishes the images as ``<account>.dkr.ecr.<region>.amazonaws.com/tensorflow-inference:<tag>``
(the Deep Learning Containers). The tables below are what this tool knows of them; an image
it does not know is deployed with ``--image-uri``. Sources: the SageMaker Python SDK's
``image_uri_config/tensorflow.json`` and its pull request #6230 (2026-09): inference 2.20 is
published only with a Python suffix (``2.20-cpu-py312``), and there is no inference 2.21; the
2.20 image is built to serve SavedModels written by TensorFlow 2.21 (aws/deep-learning-containers
pull request #6243).
"""

from __future__ import annotations

import re

REPOSITORY = "tensorflow-inference"
#: TF Serving image versions (major.minor) and what follows ``-cpu``/``-gpu`` in their tags.
IMAGE_VERSIONS: dict[str, str] = {
    "2.13": "",
    "2.14": "",
    "2.16": "",
    "2.18": "",
    "2.19": "",
    "2.20": "-py312",
}
#: The account that publishes the images in most regions, and the regions that use it.
DEFAULT_ACCOUNT = "763104351884"
_DEFAULT_REGIONS = [
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
]
#: Regions whose images live in an account of their own (opt-in, China and GovCloud regions).
_OWN_ACCOUNTS = {
    "af-south-1": "626614931356",
    "ap-east-1": "871362719292",
    "ap-northeast-3": "364406365360",
    "ap-south-2": "772153158452",
    "ap-southeast-3": "907027046896",
    "ap-southeast-4": "457447274322",
    "cn-north-1": "727897471807",
    "cn-northwest-1": "727897471807",
    "eu-central-2": "380420809688",
    "eu-south-1": "692866216735",
    "eu-south-2": "503227376785",
    "me-central-1": "914824155844",
    "me-south-1": "217643126080",
    "us-gov-east-1": "446045086412",
    "us-gov-west-1": "442386744353",
}
REGISTRIES: dict[str, str] = {**dict.fromkeys(_DEFAULT_REGIONS, DEFAULT_ACCOUNT), **_OWN_ACCOUNTS}

#: x86 instance families the CPU image runs on, and NVIDIA GPU families the GPU image runs on.
#: Graviton (arm64), Inferentia and Trainium instances need other images.
CPU_FAMILIES = frozenset(
    [
        "t2",
        "t3",
        "m4",
        "m5",
        "m5d",
        "m6i",
        "m6id",
        "m7i",
        "c4",
        "c5",
        "c5d",
        "c6i",
        "c6id",
        "c7i",
        "r5",
        "r5d",
        "r6i",
        "r6id",
        "r7i",
    ]
)
GPU_FAMILIES = frozenset(["g4dn", "g5", "g6", "g6e", "p3", "p4d", "p5"])
_INSTANCE = re.compile(r"ml\.([a-z0-9]+)\.(medium|large|xlarge|\d+xlarge)")
_IMAGE_URI = re.compile(
    r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9][a-z0-9._/-]*"
    r"(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})"
)


def minor(version: str) -> tuple[int, int]:
    """``"2.21.0"`` -> ``(2, 21)``; a version without two numbers is ``(0, 0)``."""
    parts = re.findall(r"\d+", version)[:2]
    return (int(parts[0]), int(parts[1])) if len(parts) == 2 else (0, 0)


def image_version_for(tensorflow: str | None) -> str:
    """The TF Serving image that loads SavedModels written by TensorFlow ``tensorflow``.

    The image of the same minor version where there is one. Else the oldest newer image:
    TensorFlow loads SavedModels written by older versions. Else, for a TensorFlow newer than
    every image, the newest image: 2.20 is the newest, and it is built to serve 2.21's.
    """
    known = sorted(IMAGE_VERSIONS, key=minor)
    wanted = minor(tensorflow or "")
    newer = [v for v in known if minor(v) >= wanted]
    return newer[0] if newer else known[-1]


def version_problem(version: str) -> str | None:
    """Why ``version`` names no known image, or None."""
    match = re.fullmatch(r"(\d+\.\d+)(\.\d+)?", version)
    if match and match.group(1) in IMAGE_VERSIONS:
        return None
    return (
        f"--framework-version {version!r} is not a SageMaker TensorFlow Serving image version; use one of "
        f"{', '.join(sorted(IMAGE_VERSIONS, key=minor))}, or pass --image-uri"
    )


def instance_problem(instance_type: str) -> str | None:
    """Why the TF Serving images cannot run on ``instance_type``, or None."""
    match = _INSTANCE.fullmatch(instance_type)
    example = "such as ml.m5.large, ml.c5.xlarge or ml.g5.xlarge"
    if not match:
        return f"--instance-type {instance_type!r} is not a SageMaker instance type; use one {example}"
    if match.group(1) not in CPU_FAMILIES | GPU_FAMILIES:
        return (
            f"--instance-type {instance_type!r}: {match.group(1)} is not an instance family the TensorFlow "
            f"Serving CPU or GPU image runs on; use one {example}"
        )
    return None


def processor(instance_type: str) -> str:
    """``"cpu"`` or ``"gpu"``: which image an (already checked) instance type needs."""
    return "gpu" if instance_type.split(".")[1] in GPU_FAMILIES else "cpu"


def image_uri(region: str, version: str, processor_kind: str) -> str | None:
    """The image's URI in ``region``, or None where this tool knows no registry for it."""
    account = REGISTRIES.get(region)
    if account is None:
        return None
    short = ".".join(version.split(".")[:2])
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{domain}/{REPOSITORY}:{short}-{processor_kind}{IMAGE_VERSIONS[short]}"


def image_uri_problem(uri: str) -> str | None:
    """Why ``uri`` is not an ECR image URI, or None."""
    if _IMAGE_URI.fullmatch(uri):
        return None
    return (
        f"--image-uri {uri!r} is not an ECR image URI; use ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG, "
        f"such as {DEFAULT_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/{REPOSITORY}:2.20-cpu-py312"
    )
