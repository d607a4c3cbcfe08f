"""One training run: a self-contained spec, and the pure function that turns it into a record."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

import numpy as np

from fmnist_report import backend, models, runtime
from fmnist_report.config import StudyConfig
from fmnist_report.data import Dataset, one_hot, scale
from fmnist_report.ids import ModelId
from fmnist_report.json_types import JsonValue
from fmnist_report.records import Record, make_key, versions
from fmnist_report.study import augment
from fmnist_report.study.scores import confusion_matrix, cross_entropy, per_class_scores

#: Batches per compiled call: cuts Python overhead with the same updates in the same order.
#: The PyTorch backend accepts only 1.
STEPS_PER_EXECUTION = {"tensorflow": 50, "jax": 50, "torch": 1}


#: ``fit``'s data arguments (`feed`): NumPy arrays with their batch size, or a tf.data pipeline.
class FitInput(TypedDict):
    x: Any
    y: NotRequired[np.ndarray]
    batch_size: NotRequired[int]


@dataclass(frozen=True)
class RunSpec:
    """Everything that decides the outcome of one training run.

    A spec is plain data, so any executor (this process, a worker pool, a cluster) can
    run it and the store can key its result.
    """

    arch: str
    kernel_size: int | None
    seed: int
    epochs: int
    batch_size: int
    validation_fraction: float
    split: str
    learning_rate: float
    precision: str
    data: str
    permutation_seed: int | None = None
    #: A declared variant's name and overrides (`variants.VOCABULARY`); unset for the built-in models.
    variant: str | None = None
    overrides: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        # A spec read back from JSON holds lists: one form, so that equal specs are equal values.
        frozen = tuple((str(k), tuple(v) if isinstance(v, list) else v) for k, v in self.overrides)
        object.__setattr__(self, "overrides", frozen)

    @property
    def model(self) -> ModelId:
        return ModelId(self.arch, self.kernel_size, self.permutation_seed is not None, self.variant)

    def setting(self, name: str, default: Any) -> Any:
        """An override of this run, or ``default`` where it declares none."""
        return dict(self.overrides).get(name, default)

    @property
    def model_id(self) -> str:
        """Short name shared by every seed: ``dense``, ``cnn3``, ``cnn5-permuted``..."""
        return str(self.model)

    @property
    def label(self) -> str:
        return self.model.label

    def params(self) -> dict[str, JsonValue]:
        """The spec as plain values; the variant fields only where set, so that the built-in
        models keep the cache keys they had before variants existed."""
        out = dataclasses.asdict(self)
        if self.variant is None and not self.overrides:
            del out["variant"], out["overrides"]
        else:
            out["overrides"] = [[k, list(v) if isinstance(v, tuple) else v] for k, v in self.overrides]
        return out

    @property
    def key(self) -> str:
        return make_key("train", self.params())


def spec_for(
    study: StudyConfig,
    data: Dataset,
    arch: str,
    seed: int,
    kernel_size: int | None = None,
    permutation_seed: int | None = None,
    variant: str | None = None,
    overrides: tuple[tuple[str, Any], ...] = (),
) -> RunSpec:
    """The spec of one run under the study's protocol."""
    return RunSpec(
        arch=arch,
        kernel_size=kernel_size if arch == "cnn" else None,
        seed=seed,
        epochs=study.epochs,
        batch_size=study.batch_size,
        validation_fraction=study.validation_fraction,
        split=study.split,
        learning_rate=study.learning_rate,
        precision=runtime.resolve_precision(study.precision, backend.current().device),
        data=data.fingerprint,
        permutation_seed=permutation_seed,
        variant=variant,
        overrides=overrides,
    )


def validation_split(
    labels: np.ndarray, fraction: float, how: str, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and validation parts.

    ``last`` holds out the last ``fraction`` of the images, as Keras' ``validation_split``
    does; ``stratified`` holds out ``fraction`` of each class, chosen with ``seed``.
    """
    n = len(labels)
    if how == "last":
        cut = int(n * (1.0 - fraction))
        return np.arange(cut), np.arange(cut, n)
    if how != "stratified":
        raise ValueError(f"unknown split {how!r}")
    rng = np.random.default_rng(seed)
    val = []
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        val.append(idx[: int(np.floor(len(idx) * fraction + 0.5))])  # half rounds up
    val_idx = np.sort(np.concatenate(val))
    train_idx = np.setdiff1d(np.arange(n), val_idx, assume_unique=True)
    return train_idx, val_idx


def permute_pixels(images: np.ndarray, seed: int) -> np.ndarray:
    """Apply one fixed random permutation of the 784 pixel positions to every image."""
    perm = np.random.default_rng(seed).permutation(28 * 28)
    flat = images.reshape(len(images), -1)
    return flat[:, perm].reshape(images.shape)


def layer_table(spec: RunSpec) -> list[dict[str, object]]:
    """The layer table of the network a spec trains, built without training it."""
    return models.layer_table(models.build(spec.arch, spec.kernel_size, spec.overrides))


def _epoch_timer():  # a Keras callback, built lazily so importing this module stays light
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.seconds.append(time.perf_counter() - self._start)

    return EpochTimer()


def _latency(model: Any, x: np.ndarray, repeats: int = 30) -> tuple[float, float]:
    """Milliseconds per image: batched (1,000 images per call) and single-image calls."""
    batch = x[:1000]
    model(batch[:8], training=False)  # warm-up: tracing is not inference
    start = time.perf_counter()
    model(batch, training=False)
    batched = (time.perf_counter() - start) * 1000 / len(batch)
    singles = []
    for i in range(repeats):
        start = time.perf_counter()
        model(x[i % len(x) : i % len(x) + 1], training=False)
        singles.append(time.perf_counter() - start)
    return batched, float(np.median(singles) * 1000)


def predict_proba(model: Any, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Class probabilities for float images, in fixed-size batches, as a NumPy array on any backend."""
    from keras import ops

    out = [
        ops.convert_to_numpy(model(x[i : i + batch_size], training=False))
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(out).astype(np.float32)


def logits_view(model: Any) -> Any:
    """A model sharing ``model``'s weights whose output is the logits of its softmax layer.

    Training minimises the cross-entropy computed from these logits on every backend. The
    TensorFlow backend does this by itself for a softmax output; the JAX and PyTorch
    backends would clip the probabilities to [1e-7, 1 - 1e-7] instead, which stops the
    gradient of confidently classified images and changes the result (docs/performance.md).
    """
    import keras

    head = model.get_layer(models.OUTPUT_LAYER)

    class Logits(keras.layers.Layer):
        def __init__(self) -> None:
            super().__init__(name="logits", dtype=head.dtype_policy)
            self.head = head

        def call(self, x: Any) -> Any:
            x = keras.ops.cast(x, self.head.compute_dtype)
            return keras.ops.add(keras.ops.matmul(x, self.head.kernel), self.head.bias)

    return keras.Model(model.input, Logits()(head.input), name=f"{model.name}_logits")


def batch_orders(train_idx: np.ndarray, epochs: int, seed: int) -> list[np.ndarray]:
    """The training images' order in each epoch: a fresh permutation per epoch, from the run's seed."""
    rng = np.random.default_rng([seed, 1])  # a stream of its own, apart from the validation split's
    return [train_idx[rng.permutation(len(train_idx))] for _ in range(epochs)]


def epoch_arrays(
    x: np.ndarray, y: np.ndarray, order: np.ndarray, epoch: int, spec: RunSpec
) -> tuple[np.ndarray, np.ndarray]:
    """The images and labels of one epoch, in its order; shifted where the run declares ``augment``.

    The shifts come from a stream of the run's seed and the epoch, so they repeat exactly.
    """
    images = x[order]
    max_shift = int(spec.setting("augment", 0))
    if max_shift:
        images = augment.shift_images(images, max_shift, np.random.default_rng([spec.seed, 2, epoch]))
    return images, y[order]


def feed(images: np.ndarray, labels: np.ndarray, batch_size: int) -> FitInput:
    """``fit``'s data arguments for one pass over these arrays, batch by batch in their order.

    On TensorFlow the batches go in as a tf.data pipeline with autotuning off. Keras' own
    pipeline for NumPy arrays autotunes, and destroying an autotuned iterator waits until
    the tuner's thread next wakes up: 3 to 4 s at the end of most ``fit`` calls of a
    full-size epoch, found with py-spy (docs/performance.md), so that one epoch of CNN 3x3
    cost about 40% more than its steps. The batches are the same, and so are the numbers
    (tests/test_jobs.py). Other backends iterate NumPy arrays without tf.data.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        return {"x": images, "y": labels, "batch_size": batch_size}
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    pipeline = tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch_size)
    return {"x": pipeline.with_options(options)}


def held_out(images: np.ndarray, labels: np.ndarray, batch_size: int) -> Any:
    """``fit``'s ``validation_data`` for these arrays: the same batches as `feed` gives."""
    fed = feed(images, labels, batch_size)
    return fed["x"] if "y" not in fed else (images, labels)


def fit_reshuffled(
    trained: Any,
    x: np.ndarray,
    y: np.ndarray,
    train_idx: np.ndarray,
    val_idx: np.ndarray,
    spec: RunSpec,
    callbacks: Sequence[Any],
) -> dict[str, list[float]]:
    """Fit epoch by epoch on a NumPy-shuffled order; returns the history of every epoch.

    Keras 3's TensorFlow backend, asked to ``shuffle`` NumPy arrays, repeats one order in
    every epoch; its JAX backend draws a new one. That alone moved the CNNs' accuracy by up
    to 1 percentage point between the two (docs/performance.md), so the engine shuffles
    itself, the same way on every backend.

    One ``fit`` per epoch was measured against one ``fit`` over a feed of the same orders
    (``study/onefit.py``, retired after commit 02a5f1f): the probabilities are bit-identical, and this is faster for the CNNs,
    which are nearly all of a build's time (docs/performance.md), so it stays.
    """
    history: dict[str, list[float]] = {}
    validation = held_out(x[val_idx], y[val_idx], spec.batch_size)
    for epoch, order in enumerate(batch_orders(train_idx, spec.epochs, spec.seed)):
        images, labels = epoch_arrays(x, y, order, epoch, spec)
        fitted = trained.fit(
            **feed(images, labels, spec.batch_size),
            validation_data=validation,
            initial_epoch=epoch,
            epochs=epoch + 1,
            shuffle=False,
            verbose=0,
            callbacks=list(callbacks),
        )
        for name, values in fitted.history.items():
            history.setdefault(name, []).extend(values)
    return history


def optimizer(spec: RunSpec) -> Any:
    """The run's optimizer: Adam with Keras' defaults, unless a variant declares another.

    ``sgd`` uses momentum 0.9; ``adamw`` Keras' default weight decay (0.004).
    """
    import keras

    rate = float(spec.setting("learning_rate", spec.learning_rate))
    name = spec.setting("optimizer", "adam")
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=rate, momentum=0.9)
    if name == "adamw":
        return keras.optimizers.AdamW(learning_rate=rate)
    return keras.optimizers.Adam(learning_rate=rate)


def compiled(spec: RunSpec) -> tuple[Any, Any]:
    """The spec's network and the logits view that trains it, compiled (under the current policy)."""
    import keras

    model = models.build(spec.arch, spec.kernel_size, spec.overrides)
    trained = logits_view(model)
    trained.compile(
        optimizer=optimizer(spec),
        loss=keras.losses.CategoricalCrossentropy(
            from_logits=True, label_smoothing=float(spec.setting("label_smoothing", 0.0))
        ),
        metrics=["accuracy"],
        steps_per_execution=STEPS_PER_EXECUTION[keras.backend.backend()],
    )
    return model, trained


def train(spec: RunSpec, data: Dataset, callbacks: Sequence[Any] = ()) -> Record:
    """Train and evaluate one model; returns metrics, test probabilities and the model."""
    import keras

    keras.utils.set_random_seed(spec.seed)
    x_train, x_test = data.x_train, data.x_test
    if spec.permutation_seed is not None:
        x_train = permute_pixels(x_train, spec.permutation_seed)
        x_test = permute_pixels(x_test, spec.permutation_seed)
    tr, va = validation_split(data.y_train, spec.validation_fraction, spec.split, spec.seed)
    x_all, y_all = scale(x_train), one_hot(data.y_train)
    x_te = scale(x_test)

    previous_policy = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(spec.precision)
    try:
        model, trained = compiled(spec)
        timer = _epoch_timer()
        start = time.perf_counter()
        history = fit_reshuffled(trained, x_all, y_all, tr, va, spec, callbacks=[timer, *callbacks])
        train_seconds = time.perf_counter() - start
        probabilities = predict_proba(model, x_te)
        batched_ms, single_ms = _latency(model, x_te)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)

    y_pred = probabilities.argmax(axis=1)
    confusion = confusion_matrix(data.y_test, y_pred)
    metrics = {
        "spec": spec.params(),
        "model_id": spec.model_id,
        "label": spec.label,
        "history": {k: [float(v) for v in vals] for k, vals in history.items()},
        "test_accuracy": float(np.mean(y_pred == data.y_test)),
        "test_loss": cross_entropy(probabilities, data.y_test.astype(np.int64)),
        "per_class": per_class_scores(confusion),
        "platform": dataclasses.asdict(backend.current()),
        "onednn_isa": versions().get("onednn_isa"),  # as the key names it: TensorFlow only
        "machine": runtime.machine(),
        "params": int(model.count_params()),
        "layers": models.layer_table(model),
        "flops": models.flops_per_image(model),
        "train_seconds": train_seconds,
        "epoch_seconds": timer.seconds,
        "latency_ms_batched": batched_ms,
        "latency_ms_single": single_ms,
        "n_train": len(tr),
        "n_val": len(va),
        "n_test": len(data.y_test),
    }
    return Record(
        kind="train",
        key=spec.key,
        metrics=metrics,
        arrays={"probabilities": probabilities, "confusion": confusion},
        model=model,
    )
