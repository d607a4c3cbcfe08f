"""The study's architectures as plain builder functions, and their cost in FLOPs."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

# Keras is imported inside the builders: the report reads receptive_fields without loading it.

INPUT_SHAPE = (28, 28, 1)
#: The softmax layer every model ends in.
OUTPUT_LAYER = "probabilities"
NUM_CLASSES = 10


def build_dense(num_classes: int = NUM_CLASSES) -> keras.Model:
    """The fully connected baseline: Flatten, Dense(256), Dense(128), Dense(10)."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    x = layers.Flatten(name="flatten")(inputs)
    x = layers.Dense(256, activation="relu", name="dense_256")(x)
    x = layers.Dense(128, activation="relu", name="dense_128")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="dense_baseline")


def build_cnn(kernel_size: int = 3, num_classes: int = NUM_CLASSES) -> keras.Model:
    """The study's CNN: two conv/pool stages with 32 and 64 filters of ``kernel_size``, then Dense(128)."""
    import keras
    from keras import layers

    k = (kernel_size, kernel_size)
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    x = layers.Conv2D(32, k, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(64, k, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, activation="relu", name="dense_128")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=f"cnn_{kernel_size}x{kernel_size}")


def build(arch: str, kernel_size: int | None = None) -> keras.Model:
    """Build by name: ``dense`` or ``cnn`` (with ``kernel_size``)."""
    if arch == "dense":
        return build_dense()
    if arch == "cnn":
        return build_cnn(kernel_size or 3)
    raise ValueError(f"unknown architecture {arch!r}; expected dense or cnn")


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


def receptive_fields(kernel_size: int) -> list[dict[str, int]]:
    """Receptive field (in input pixels) after each conv and pool layer of ``build_cnn``.

    Uses r_out = r_in + (k - 1) * j_in and j_out = j_in * stride.
    """
    r, j, out = 1, 1, []
    for name, k, stride in (
        ("conv1", kernel_size, 1),
        ("pool1", 2, 2),
        ("conv2", kernel_size, 1),
        ("pool2", 2, 2),
    ):
        r += (k - 1) * j
        j *= stride
        out.append({"layer": name, "receptive_field": r, "stride": j})
    return out
