"""The study's architectures as plain builder functions, and their cost in FLOPs."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    import keras

# Keras is imported inside the builders: the report reads receptive_fields without loading it.

INPUT_SHAPE = (28, 28, 1)
#: The softmax layer every model ends in.
OUTPUT_LAYER = "probabilities"
NUM_CLASSES = 10


#: The layer names the analyses read, by base: `study.experiments` probe the conv/pool stages
#: (``conv1``, ``pool1``...), the penultimate dense layer (``dense_<units>``) and the softmax.
#: Every builder keeps these names, whatever a variant changes.
INTERFACE = {
    "dense": ("flatten", "dense_<units>", OUTPUT_LAYER),
    "cnn": ("conv<i>", "pool<i>", "flatten", "dense_<units>", OUTPUT_LAYER),
}


@dataclass(frozen=True)
class Architecture:
    """What a builder lays out; the defaults are the study's models, a variant's overrides change them."""

    kernel_size: int = 3
    filters: tuple[int, ...] = (32, 64)
    dense_units: tuple[int, ...] | None = None  # None: the base's own (256, 128 or 128)
    dropout: float = 0.0
    stage_dropout: float = 0.0
    batch_norm: bool = False
    pooling: str = "max"
    activation: str = "relu"
    weight_decay: float = 0.0

    @property
    def penalty(self) -> Any:
        """The L2 penalty on every kernel, or None (no penalty: the study's own models)."""
        import keras

        return keras.regularizers.L2(self.weight_decay) if self.weight_decay else None

    @classmethod
    def of(cls, kernel_size: int | None, overrides: Iterable[tuple[str, Any]] = ()) -> Architecture:
        """The architecture of a run: the base's kernel size, then the overrides that shape the network."""
        fields = {f.name for f in dataclasses.fields(cls)}
        shaped = {k: v for k, v in overrides if k in fields}
        return cls(**{"kernel_size": kernel_size or 3, **shaped})


def _hidden(x: Any, units: int, arch: Architecture, name: str) -> Any:
    """A hidden dense layer: Dense, then batch norm and the activation where declared."""
    from keras import layers

    if not arch.batch_norm:
        return layers.Dense(units, activation=arch.activation, kernel_regularizer=arch.penalty, name=name)(x)
    x = layers.Dense(units, kernel_regularizer=arch.penalty, name=name)(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation(arch.activation, name=f"{name}_act")(x)


def _head(x: Any, units: Iterable[int], arch: Architecture, num_classes: int) -> Any:
    """The hidden dense layers and the softmax, with the declared dropout."""
    from keras import layers

    units = tuple(units)
    for i, n in enumerate(units):
        # dense_<units>, as the analyses and the layer tables name it; numbered when a width repeats
        name = f"dense_{n}" if units.count(n) == 1 else f"dense{i + 1}_{n}"
        x = _hidden(x, n, arch, name)
        if arch.stage_dropout and i < len(units) - 1:
            x = layers.Dropout(arch.stage_dropout, name=f"{name}_dropout")(x)
    if arch.dropout:
        x = layers.Dropout(arch.dropout, name="head_dropout")(x)
    return layers.Dense(num_classes, activation="softmax", name=OUTPUT_LAYER, dtype="float32")(x)


def build_dense(num_classes: int = NUM_CLASSES, arch: Architecture | None = None) -> keras.Model:
    """The fully connected baseline: Flatten, Dense(256), Dense(128), Dense(10)."""
    import keras
    from keras import layers

    arch = arch or Architecture()
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    x = layers.Flatten(name="flatten")(inputs)
    outputs = _head(x, arch.dense_units or (256, 128), arch, num_classes)
    return keras.Model(inputs, outputs, name="dense_baseline")


def build_cnn(
    kernel_size: int = 3, num_classes: int = NUM_CLASSES, arch: Architecture | None = None
) -> keras.Model:
    """The study's CNN: two conv/pool stages with 32 and 64 filters of ``kernel_size``, then Dense(128)."""
    import keras
    from keras import layers

    arch = arch or Architecture(kernel_size=kernel_size)
    k = (arch.kernel_size, arch.kernel_size)
    pool = layers.MaxPooling2D if arch.pooling == "max" else layers.AveragePooling2D
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    x = inputs
    for i, filters in enumerate(arch.filters, start=1):
        if arch.batch_norm:
            x = layers.Conv2D(filters, k, padding="same", kernel_regularizer=arch.penalty, name=f"conv{i}")(x)
            x = layers.BatchNormalization(name=f"conv{i}_bn")(x)
            x = layers.Activation(arch.activation, name=f"conv{i}_act")(x)
        else:
            x = layers.Conv2D(
                filters,
                k,
                padding="same",
                activation=arch.activation,
                kernel_regularizer=arch.penalty,
                name=f"conv{i}",
            )(x)
        x = pool(2, name=f"pool{i}")(x)
        if arch.stage_dropout:
            x = layers.Dropout(arch.stage_dropout, name=f"pool{i}_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = _head(x, arch.dense_units or (128,), arch, num_classes)
    return keras.Model(inputs, outputs, name=f"cnn_{arch.kernel_size}x{arch.kernel_size}")


#: One builder per base: each lays out an `Architecture` with the `INTERFACE` layer names.
BUILDERS = {
    "dense": lambda arch: build_dense(arch=arch),
    "cnn": lambda arch: build_cnn(arch.kernel_size, arch=arch),
}


def build(
    arch: str, kernel_size: int | None = None, overrides: Iterable[tuple[str, Any]] = ()
) -> keras.Model:
    """Build by name: ``dense`` or ``cnn`` (with ``kernel_size``), changed by a variant's ``overrides``."""
    if arch not in BUILDERS:
        raise ValueError(f"unknown architecture {arch!r}; expected {' or '.join(BUILDERS)}")
    return BUILDERS[arch](Architecture.of(kernel_size, overrides))


def layer_table(model: keras.Model) -> list[dict[str, object]]:
    """Per-layer name, type, output shape and parameter count, for the report's tables."""
    rows = []
    for layer in model.layers:
        shape = tuple(layer.output.shape)[1:]
        rows.append(
            {
                "name": layer.name,
                "type": type(layer).__name__,
                "output_shape": "x".join(str(d) for d in shape),
                "params": int(layer.count_params()),
            }
        )
    return rows


def flops_per_image(model: keras.Model) -> int:
    """Forward-pass FLOPs for one image, counting a multiply-add as two operations.

    Conv2D: 2 * k_h * k_w * C_in * C_out * H_out * W_out, plus one add per output for the
    bias; Dense: 2 * n_in * n_out plus n_out bias adds. Activations, pooling and softmax
    are left out: they are a fraction of a percent here.
    """
    from keras import layers

    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            kh, kw = layer.kernel_size
            c_in = layer.input.shape[-1]
            _, h, w, c_out = layer.output.shape
            total += 2 * kh * kw * c_in * c_out * h * w + c_out * h * w
        elif isinstance(layer, layers.Dense):
            n_in = layer.input.shape[-1]
            total += 2 * n_in * layer.units + layer.units
    return int(total)


class ReceptiveField(TypedDict):
    """One conv or pool layer of ``build_cnn``: what one of its units sees, and its stride."""

    layer: str
    receptive_field: int
    stride: int


def receptive_fields(kernel_size: int) -> list[ReceptiveField]:
    """Receptive field (in input pixels) after each conv and pool layer of ``build_cnn``.

    Uses r_out = r_in + (k - 1) * j_in and j_out = j_in * stride.
    """
    r, j = 1, 1
    out: list[ReceptiveField] = []
    for name, k, stride in (
        ("conv1", kernel_size, 1),
        ("pool1", 2, 2),
        ("conv2", kernel_size, 1),
        ("pool2", 2, 2),
    ):
        r += (k - 1) * j
        j *= stride
        out.append(ReceptiveField(layer=name, receptive_field=r, stride=j))
    return out
