"""Learned filters and feature maps: conv1 kernels, activations per layer, sparsity after ReLU."""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from fmnist_report.data import Dataset, scale
from fmnist_report.records import Measured
from fmnist_report.study.experiments.probes import describe_subsample, layer_outputs, subsample
from fmnist_report.study.experiments.registry import Job, Loader
from fmnist_report.study.results import Roles, StudyResults
from fmnist_report.study.summary_types import FilterNorms, FiltersAnalysis

KIND: Final = "filters"
#: Part of the cache key: bump when a change to this module changes what it measures.
VERSION = 1
#: Images over which activation sparsity is measured.
N_IMAGES = 1000
LAYERS = ("conv1", "conv2")


def conv1_kernels(model: Any) -> np.ndarray:
    """The first layer's kernels as (filters, k, k)."""
    kernel = np.asarray(model.get_layer("conv1").kernel.numpy(), dtype=np.float32)  # (k, k, 1, filters)
    return np.transpose(kernel[:, :, 0, :], (2, 0, 1))


def example_indices(labels: np.ndarray, num_classes: int) -> list[int]:
    """The first test image of each class that occurs."""
    return [int(np.flatnonzero(labels == c)[0]) for c in range(num_classes) if np.any(labels == c)]


def run(cnns: dict[int, Any], data: Dataset, n_images: int = N_IMAGES) -> Measured[FiltersAnalysis]:
    """Kernels and sparsity for every kernel size; conv1/conv2 maps of the smallest kernel's CNN.

    Args:
        cnns: trained CNNs by kernel size.
        n_images: test images over which sparsity (share of exact zeros after ReLU) is measured.
    """
    if not cnns:
        raise ValueError("filters.run needs at least one CNN")
    sizes = sorted(cnns)
    idx = subsample(len(data.y_test), n_images)
    x = scale(data.x_test[idx])
    arrays: dict[str, np.ndarray] = {}
    norms: dict[str, FilterNorms] = {}
    sparsity: dict[str, dict[str, float]] = {}
    dead: dict[str, dict[str, int]] = {}
    for k in sizes:
        kernels = conv1_kernels(cnns[k])
        arrays[f"kernels_k{k}"] = kernels
        per_filter = np.sqrt((kernels.astype(np.float64) ** 2).sum(axis=(1, 2)))
        arrays[f"norms_k{k}"] = per_filter.astype(np.float32)
        norms[str(k)] = {
            "mean": float(per_filter.mean()),
            "min": float(per_filter.min()),
            "max": float(per_filter.max()),
        }
        maps = layer_outputs(cnns[k], LAYERS, x)
        sparsity[str(k)] = {name: float(np.mean(m == 0.0)) for name, m in zip(LAYERS, maps, strict=True)}
        dead[str(k)] = {
            name: int(np.sum(np.all(m.reshape(-1, m.shape[-1]) == 0.0, axis=0)))
            for name, m in zip(LAYERS, maps, strict=True)
        }

    shown = sizes[0]
    examples = example_indices(data.y_test, len(data.class_names))
    conv1_maps, conv2_maps = layer_outputs(cnns[shown], LAYERS, scale(data.x_test[examples]))
    mean_activation = {
        name: m.mean(axis=(0, 1, 2)) for name, m in (("conv1", conv1_maps), ("conv2", conv2_maps))
    }
    order = {name: np.argsort(-v, kind="stable").tolist() for name, v in mean_activation.items()}
    arrays.update(
        example_images=data.x_test[examples],
        conv1_maps=conv1_maps,
        conv2_maps=conv2_maps,
    )
    metrics: FiltersAnalysis = {
        "kernel_sizes": sizes,
        "n_filters": {str(k): int(arrays[f"kernels_k{k}"].shape[0]) for k in sizes},
        "filter_norms": norms,
        "n_images": len(idx),
        "images": describe_subsample(len(idx), len(data.y_test)),
        "sparsity": sparsity,
        "dead_channels": dead,
        "channels": {name: int(m.shape[-1]) for name, m in (("conv1", conv1_maps), ("conv2", conv2_maps))},
        "feature_map_kernel": shown,
        "example_indices": examples,
        "example_classes": [int(data.y_test[i]) for i in examples],
        "channel_order": order,
        "example_mean_activation": {name: v.tolist() for name, v in mean_activation.items()},
    }
    return Measured(metrics, arrays)


def job(results: StudyResults, roles: Roles) -> Job | None:
    """Filters and feature maps of every CNN's first seed."""
    cnns = roles.cnns
    if not cnns:
        return None

    def compute(load: Loader) -> Measured[FiltersAnalysis]:
        return run({k: load(m) for k, m in cnns.items()}, results.data, n_images=N_IMAGES)

    return Job(KIND, VERSION, {"n_images": N_IMAGES}, [results.first(m).key for m in cnns.values()], compute)
