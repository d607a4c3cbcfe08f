"""Cases ``build`` and ``platform``: the study on one Keras backend and device, and where platforms' numbers part.

``build`` runs the whole build in a fresh store and times it by phase: data, training, the
analyses, then the build's own `pipeline.build_report` (export, sample predictions, figures,
interpretation, HTML, PDF, writing), and every run's accuracy and first and last epoch.
Where TensorFlow is not installed (a JAX-only GPU machine), the SavedModel and model.tar.gz
cannot be written: the export is then the ``.keras`` file alone, said so in its line, and
the PDF is skipped, also said so, where WeasyPrint's libraries are missing.

``platform`` runs one of three jobs. ``study``: every training run and analysis of the
profile through the project's own engine (`study.runner.run_study`) into a fresh store, the
wall time of each phase and the test accuracy of each model. ``loss``: one model on several
seeds with the cross-entropy from logits (``logits``, what the engine does on every backend)
or from probabilities clipped to [1e-7, 1 - 1e-7] (``clipped``, what Keras' JAX and PyTorch
backends do for a softmax output); ``--matmul-precision highest`` turns off TF32 on a GPU
under JAX. ``pinned``: one model with the initial weights and the batch order pinned, so
that two backends differ only in their arithmetic.

Each job runs in a fresh interpreter and prints one JSON line per event as it goes (figures
and ratios, no assertions); docs/performance.md shows the tables.

    python -m benchmarks build --backend jax --out DIR      # the whole build, timed by phase
    python -m benchmarks platform study --backend jax       # the whole study, timed
    python -m benchmarks platform loss --backend jax --model cnn7 --seeds 0 1 2 --loss clipped
    python -m benchmarks platform study --backend jax --profile quick --n-seeds 3 --compile-cache off
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import harness

#: What the jobs emitted in this interpreter, in order: `job` returns it.
EVENTS: list[dict[str, object]] = []


def emit(**fields: object) -> None:
    EVENTS.append(fields)
    print(json.dumps(fields), flush=True)


def setup(args: argparse.Namespace):
    from fmnist_report import backend, runtime

    if args.compile_cache == "off":  # JAX compiles every run's programs anew, as before the cache
        runtime.use_compile_cache = lambda folder=None: None
    name = runtime.configure(backend=args.backend)
    if args.matmul_precision:
        import jax

        jax.config.update("jax_default_matmul_precision", args.matmul_precision)
    from fmnist_report.config import load_config
    from fmnist_report.study.runner import load_data

    cfg = load_config(
        None,
        study={"profile": args.profile, "seeds": args.n_seeds, "epochs": args.epochs, "backend": name},
        report=None,
        out_dir=args.out,
        data_dir=args.data_dir,
        offline=True,
    )
    start = time.perf_counter()
    data = load_data(cfg)
    emit(event="setup", platform=backend.current().label, data_seconds=time.perf_counter() - start)
    return cfg, data


def study(args: argparse.Namespace) -> None:
    """Every training run and analysis of the profile in a fresh store, timed by phase."""
    from fmnist_report.store import Store
    from fmnist_report.study import analyses
    from fmnist_report.study.runner import run_study
    from fmnist_report.study.summary import summarize

    start = time.perf_counter()
    cfg, data = setup(args)
    store = Store(cfg.cache_dir)
    parts = ["eda", "dense", "cnn", "kernels", "locality"]
    t0 = time.perf_counter()
    results = run_study(cfg, data, store, only=parts)
    t1 = time.perf_counter()
    results.analyses = analyses.run_all(results, store)
    t2 = time.perf_counter()
    summary = summarize(results)
    for model_id, records in results.runs.items():
        emit(
            model=model_id,
            seeds=[r.metrics["spec"]["seed"] for r in records],
            test_accuracy=[round(r.metrics["test_accuracy"], 4) for r in records],
            mean=round(summary.row(model_id)["test_accuracy"]["mean"], 4),
            train_seconds=[round(r.metrics["train_seconds"], 1) for r in records],
            epoch_seconds=[round(s, 2) for s in records[0].metrics["epoch_seconds"]],
        )
    emit(
        event="study",
        runs=sum(len(r) for r in results.runs.values()),
        training_seconds=round(t1 - t0, 1),
        analyses_seconds=round(t2 - t1, 1),
        total_seconds=round(time.perf_counter() - start, 1),
    )


def build(args: argparse.Namespace) -> None:
    """The whole build in a fresh store, each phase timed: what `fmnist-report build` does."""
    import importlib.util

    from fmnist_report import pipeline
    from fmnist_report.store import Store
    from fmnist_report.study import analyses
    from fmnist_report.study.runner import run_study
    from fmnist_report.study.summary import summarize

    start = time.perf_counter()
    cfg, data = setup(args)
    store = Store(cfg.cache_dir)
    t0 = time.perf_counter()
    results = run_study(cfg, data, store, only=["eda", "dense", "cnn", "kernels", "locality"])
    t1 = time.perf_counter()
    results.analyses = analyses.run_all(results, store)
    summary = summarize(results)  # milliseconds: counted with the analyses
    t2 = time.perf_counter()
    import keras

    export = "SavedModel and model.tar.gz" + (
        ", in a TensorFlow subprocess" if keras.backend.backend() != "tensorflow" else ""
    )
    if importlib.util.find_spec("tensorflow") is None:
        export = "the .keras file alone: no TensorFlow here, so no SavedModel or model.tar.gz"
        keras_only_export(results, summary, store)
    t3 = time.perf_counter()
    try:
        import weasyprint  # noqa: F401  (loads Pango: OSError where its libraries are missing)

        pdf = True
    except (OSError, ImportError) as exc:
        pdf = False
        emit(event="pdf", skipped=str(exc).splitlines()[0])
    out = pipeline.build_report(results, pdf=pdf, reuse_export=True)
    seconds = {
        "data": round(t0 - start, 1),
        "training": round(t1 - t0, 1),
        "analyses": round(t2 - t1, 1),
        **({"export_keras_only": round(t3 - t2, 2)} if t3 - t2 > 0.001 else {}),
        **{k: round(v, 2) for k, v in out.seconds.items()},
    }
    emit(
        event="build",
        export=export,
        pdf=pdf,
        seconds=seconds,
        total_seconds=round(time.perf_counter() - start, 1),
    )
    for model_id, records in results.runs.items():
        emit(
            model=model_id,
            test_accuracy=[round(r.metrics["test_accuracy"], 4) for r in records],
            mean=round(summary.row(model_id)["test_accuracy"]["mean"], 4),
            train_seconds=[round(r.metrics["train_seconds"], 1) for r in records],
            first_epoch_seconds=[round(r.metrics["epoch_seconds"][0], 2) for r in records],
            last_epoch_seconds=[round(r.metrics["epoch_seconds"][-1], 2) for r in records],
        )


def keras_only_export(results, summary, store) -> None:
    """The export where TensorFlow is missing: the stored .keras file and its metadata.json."""
    import shutil

    from fmnist_report.serving import artifacts, publish
    from fmnist_report.store import MODEL_FILE, atomic_dir

    metadata = json.loads(json.dumps(publish.export_metadata(results, summary)))
    entry = store.entry("train", results.first(publish.exported_id(summary)).key)

    def fill(folder: Path) -> None:
        target = folder / artifacts.KERAS_FILE
        shutil.copyfile(entry / MODEL_FILE, target)
        digest = {"sha256": artifacts.sha256_file(target), "bytes": target.stat().st_size}
        record = {**metadata, "artifacts": {artifacts.KERAS_FILE: digest}}
        (folder / artifacts.METADATA_FILE).write_text(json.dumps(record, indent=2))

    atomic_dir(results.config.model_dir, fill)


def loss(args: argparse.Namespace) -> None:
    """One model on several seeds, with the engine's loss or the clipped-probability one."""
    import dataclasses

    cfg, data = setup(args)
    import keras

    from fmnist_report.ids import ModelId
    from fmnist_report.study import training

    if args.loss == "clipped":
        # What Keras does without the engine's logits view on the JAX and PyTorch backends.
        original = keras.losses.CategoricalCrossentropy
        training.logits_view = lambda model: model
        keras.losses.CategoricalCrossentropy = lambda from_logits=False: original(from_logits=False)
    mid = ModelId.parse(args.model)
    accs = []
    for seed in args.seeds:
        spec = training.spec_for(cfg.study, data, mid.arch, seed, kernel_size=mid.kernel_size)
        spec = dataclasses.replace(spec, precision=args.precision or spec.precision)
        record = training.train(spec, data)
        accs.append(record.metrics["test_accuracy"])
        emit(
            model=args.model,
            seed=seed,
            loss=args.loss,
            matmul_precision=args.matmul_precision or "default",
            precision=spec.precision,
            test_accuracy=round(record.metrics["test_accuracy"], 4),
            train_seconds=round(record.metrics["train_seconds"], 1),
        )
    emit(event="loss", model=args.model, loss=args.loss, mean=round(sum(accs) / len(accs), 4))


def pinned(args: argparse.Namespace) -> None:
    """One model with the initial weights and the batch order pinned, so that two backends
    differ only in their arithmetic: ``--save-init`` writes this backend's initial weights,
    ``--init-from`` trains from weights written earlier (by another backend)."""
    import numpy as np

    cfg, data = setup(args)
    import keras

    from fmnist_report import models
    from fmnist_report.data import one_hot, scale
    from fmnist_report.ids import ModelId
    from fmnist_report.study import training

    mid = ModelId.parse(args.model)
    for seed in args.seeds:
        keras.utils.set_random_seed(seed)
        model = models.build(mid.arch, mid.kernel_size)
        path = Path(args.save_init or args.init_from or ".") / f"{args.model}-seed{seed}.npz"
        if args.save_init:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, *model.get_weights())
            continue
        if args.init_from:
            with np.load(path) as npz:
                model.set_weights([npz[f"arr_{i}"] for i in range(len(npz.files))])
        spec = training.spec_for(cfg.study, data, mid.arch, seed, kernel_size=mid.kernel_size)
        trained = training.logits_view(model)
        trained.compile(
            optimizer=keras.optimizers.Adam(learning_rate=spec.learning_rate),
            loss=keras.losses.CategoricalCrossentropy(from_logits=True),
        )
        tr, _ = training.validation_split(data.y_train, spec.validation_fraction, spec.split, seed)
        x, y = scale(data.x_train), one_hot(data.y_train)
        order = np.random.default_rng(seed)
        for _ in range(spec.epochs):
            idx = order.permutation(tr)
            trained.fit(x[idx], y[idx], batch_size=spec.batch_size, epochs=1, shuffle=False, verbose=0)
        probs = training.predict_proba(model, scale(data.x_test))
        emit(
            model=args.model,
            seed=seed,
            init="from " + str(args.init_from) if args.init_from else "own",
            precision=keras.mixed_precision.global_policy().name,
            test_accuracy=round(float(np.mean(probs.argmax(1) == data.y_test)), 4),
        )


def job(name: str, **options: Any) -> list[dict[str, object]]:
    """In the fresh interpreter: run the job ``name`` (build, study, loss, pinned) with the
    case's options; return the events it emitted."""
    paths = ("out", "data_dir", "save_init", "init_from")
    args = argparse.Namespace(
        **{k: Path(v) if k in paths and v is not None else v for k, v in options.items()}
    )
    {"build": build, "study": study, "loss": loss, "pinned": pinned}[name](args)
    return EVENTS


def common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--profile", default="full")
    parser.add_argument("--n-seeds", type=int, default=None, help="seeds of the study")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument(
        "--compile-cache",
        choices=["on", "off"],
        default="on",
        help="JAX: keep compiled programs ($XDG_CACHE_HOME)",
    )
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: a new temporary one)")
    parser.add_argument("--matmul-precision", default=None, help="JAX only: highest turns TF32 off")


def platform_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job", choices=["study", "loss", "pinned"])
    common_arguments(parser)
    parser.add_argument("--model", default="cnn7")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--loss", choices=["logits", "clipped"], default="logits")
    parser.add_argument("--precision", default=None, help="float32 or mixed_bfloat16 (default: auto)")
    parser.add_argument("--save-init", type=Path, default=None, help="pinned: write initial weights here")
    parser.add_argument("--init-from", type=Path, default=None, help="pinned: start from these weights")


def run_jobs(name: str, args: argparse.Namespace) -> list[list[dict[str, Any]]]:
    """The job in a fresh interpreter per repeat, each in its own output folder (``--out``, with
    one sub-folder per repeat when there are several, or a temporary one)."""
    options = {k: str(v.absolute()) if isinstance(v, Path) else v for k, v in vars(args).items()}
    for key in ("case", "job", "quick", "repeat", "results"):
        options.pop(key, None)
    events = []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="fmnist-bench-") as tmp:
            out = args.out / f"repeat-{i + 1}" if args.out and args.repeat > 1 else args.out
            options["out"] = str((out or Path(tmp)).absolute())
            done = harness.run(
                harness.Call("benchmarks.platform_bench:job", {"name": name, **options}), echo=True
            )
        print(f"  [{i + 1}/{args.repeat}] {name}: {done.wall_seconds:.1f} s in its interpreter", flush=True)
        events.append([*done.result, {"event": "process", "wall_seconds": round(done.wall_seconds, 1)}])
    return events


def measure_build(args: argparse.Namespace) -> dict[str, Any]:
    events = run_jobs("build", args)
    builds = [next(e for e in es if e.get("event") == "build") for es in events]
    phases = {k: [b["seconds"].get(k, 0.0) for b in builds] for k in builds[0]["seconds"]}
    phases["total"] = [b["total_seconds"] for b in builds]
    phases["process"] = [es[-1]["wall_seconds"] for es in events]
    return {"medians": {"seconds": harness.medians(phases)}, "events": events}


def measure_platform(args: argparse.Namespace) -> dict[str, Any]:
    events = run_jobs(args.job, args)
    process = [es[-1]["wall_seconds"] for es in events]
    medians: dict[str, Any] = {"process_seconds": statistics.median(process)}
    for kind, key in (("study", "total_seconds"), ("loss", "mean")):
        found = [e[key] for es in events for e in es if e.get("event") == kind]
        if found:
            medians[f"{kind}_{key}"] = statistics.median(found)
    return {"medians": medians, "events": events}


CASES = (
    harness.Case(
        name="build",
        summary="the whole build from an empty store on one backend, timed by phase",
        add_arguments=common_arguments,
        measure=measure_build,
        quick=("--profile", "quick", "--n-seeds", "1", "--epochs", "1"),
    ),
    harness.Case(
        name="platform",
        summary="platform jobs: the study timed by phase (study), the loss (loss), pinned weights (pinned)",
        add_arguments=platform_arguments,
        measure=measure_platform,
        quick=("--profile", "quick", "--n-seeds", "1", "--epochs", "1"),
    ),
)
