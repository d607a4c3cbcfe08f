"""A student's own variants: the override vocabulary, and the ``[[variants]]`` tables read against it.

Each override is one entry of :data:`VOCABULARY`: its constraint, the bases it applies to and
the value the base model has. `models.build` and `study.training.train` read the overrides;
adding a key is one entry here plus the code that uses it there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fmnist_report import ids
from fmnist_report.constraints import (
    Boolean,
    Constraint,
    Interval,
    ListOf,
    Name,
    OddInterval,
    Options,
    echo,
    is_name,
    is_number,
)
from fmnist_report.errors import ConfigError
from fmnist_report.ids import ModelId, is_builtin

#: The models a variant can start from: the dense baseline and the study's CNN (3x3).
BASES = ("cnn", "dense")
#: The most variants one study declares: each adds a model trained on every seed.
MAX_VARIANTS = 12
#: The keys of a ``[[variants]]`` table besides the overrides.
TABLE_KEYS = ("name", "base")


@dataclass(frozen=True)
class Override:
    """One key a variant may set.

    Attributes:
        constraint: what its value must be.
        defaults: the value of each base it applies to (a base not named here cannot take it).
            ``None`` stands for the study's own setting (``learning_rate``).
        help: what it changes, in one line.
    """

    constraint: Constraint
    defaults: Mapping[str, Any]
    help: str


_RATE = Interval(0.0, 0.9)
_ACTIVATIONS = Options(("elu", "gelu", "relu", "selu", "swish", "tanh"))

#: Every override a variant can declare, in the order a default name lists them.
VOCABULARY: dict[str, Override] = {
    "kernel_size": Override(OddInterval(1, 13, integer=True), {"cnn": 3}, "kernel size of every conv layer"),
    "filters": Override(
        ListOf(Interval(1, 512, integer=True), 1, 4, example="[16, 32]"),
        {"cnn": (32, 64)},
        "filters of each conv/pool stage; the list's length is the number of stages",
    ),
    "dense_units": Override(
        ListOf(Interval(1, 4096, integer=True), 1, 3, example="[64]"),
        {"cnn": (128,), "dense": (256, 128)},
        "units of each hidden dense layer before the softmax",
    ),
    "dropout": Override(_RATE, {"cnn": 0.0, "dense": 0.0}, "dropout rate before the softmax layer"),
    "stage_dropout": Override(
        _RATE,
        {"cnn": 0.0, "dense": 0.0},
        "dropout rate after each conv/pool stage (dense: each hidden layer)",
    ),
    "batch_norm": Override(
        Boolean(), {"cnn": False, "dense": False}, "batch normalisation before each hidden activation"
    ),
    "pooling": Override(Options(("avg", "max")), {"cnn": "max"}, "2x2 pooling after each conv layer"),
    "activation": Override(_ACTIVATIONS, {"cnn": "relu", "dense": "relu"}, "activation of the hidden layers"),
    "learning_rate": Override(
        Interval(0.0, 1.0, closed="right"), {"cnn": None, "dense": None}, "the optimizer's learning rate"
    ),
    "optimizer": Override(
        Options(("adam", "adamw", "sgd")),
        {"cnn": "adam", "dense": "adam"},
        "adam, adamw, or sgd with momentum 0.9",
    ),
    "augment": Override(
        Interval(0, 4, integer=True),
        {"cnn": 0, "dense": 0},
        "random shifts of up to this many pixels, drawn per image and epoch (no flips)",
    ),
    "weight_decay": Override(
        Interval(0.0, 0.1, closed="right"),
        {"cnn": 0.0, "dense": 0.0},
        "L2 penalty on the kernels of the conv and hidden dense layers",
    ),
    "label_smoothing": Override(
        Interval(0.0, 0.5, closed="left"), {"cnn": 0.0, "dense": 0.0}, "label smoothing of the loss"
    ),
}
_NAME = Name()


#: The value of an override: a number, a word, a switch, or a list of sizes (a tuple).
OverrideValue = bool | int | float | str | tuple[int, ...]
#: An override's value as TOML and JSON hold it: a list of sizes is a list.
PlainValue = bool | int | float | str | list[int]


@dataclass(frozen=True)
class Variant:
    """One declared variant: its name, its base and its overrides (in vocabulary order)."""

    name: str
    base: str
    overrides: tuple[tuple[str, OverrideValue], ...]

    def to_dict(self) -> dict[str, PlainValue]:
        """Plain values, as a ``[[variants]]`` table would hold them: ``name``, ``base`` and the overrides."""
        return {"name": self.name, "base": self.base, **{k: _plain(v) for k, v in self.overrides}}


def _plain(value: OverrideValue) -> PlainValue:
    return list(value) if isinstance(value, tuple) else value


def _word(value: Any) -> str:
    """A value as a default name writes it: ``0.3``, ``true``, ``16x32``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "x".join(_word(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def default_name(overrides: Sequence[tuple[str, Any]]) -> str:
    """The name made from the overrides, Hydra-style: ``dropout=0.3,batch_norm=true``."""
    return ",".join(f"{key}={_word(value)}" for key, value in overrides)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return list(a) == list(b)
    return (type(a) is type(b) and a == b) or (is_number(a) and is_number(b) and float(a) == float(b))


def _normal(value: Any, constraint: Constraint) -> Any:
    """One form per value, for the name and the cache key: lists become tuples, and a whole
    number given where a fraction is meant becomes a float (``learning_rate = 1`` is 1.0)."""
    if isinstance(value, list):
        return tuple(value)
    if isinstance(constraint, Interval) and not constraint.integer and is_number(value):
        return float(value)
    return value


def builtin_twin(
    base: str, overrides: Sequence[tuple[str, Any]], kernel_sizes: Sequence[int]
) -> ModelId | None:
    """The built-in model a variant with these overrides would train again, or None.

    No override repeats the base (``dense``, ``cnn3``); a CNN that changes only its kernel size
    to one of the study's ``kernel_sizes`` is that arm of the kernel study (``cnn5``).
    """
    if not overrides:
        return ids.DENSE if base == "dense" else ids.cnn(VOCABULARY["kernel_size"].defaults["cnn"])
    (key, value), *others = overrides
    if base == "cnn" and key == "kernel_size" and not others and value in kernel_sizes:
        return ids.cnn(value)
    return None


def _one(table: Any, where: str, origin: str, learning_rate: float, kernel_sizes: Sequence[int]) -> Variant:
    if not isinstance(table, Mapping):
        raise ConfigError(
            f"{origin}: {where} must be a table, got {echo(table)}; write it as a [[variants]] header "
            "followed by `key = value` lines"
        )
    for key in table:
        if key not in VOCABULARY and key not in TABLE_KEYS:
            shown = key if is_name(key) else echo(key)
            raise ConfigError(
                f"{origin}: {where}: unknown key {shown!s}; known keys are "
                f"{', '.join([*TABLE_KEYS, *VOCABULARY])} (`fmnist-report variants --list` describes each)"
            )
    base = table.get("base")
    if base not in BASES:
        raise ConfigError(
            f"{origin}: {where}: base must be one of {', '.join(BASES)}, got {echo(base)}; "
            'name the model the variant starts from, e.g. base = "cnn"'
        )
    overrides = []
    for key, entry in VOCABULARY.items():
        if key not in table:
            continue
        value = table[key]
        if base not in entry.defaults:
            raise ConfigError(
                f"{origin}: {where}: {key} does not apply to base {base!r} (it applies to "
                f"{', '.join(entry.defaults)}); drop it or change the base"
            )
        if not entry.constraint.accepts(value):
            raise ConfigError(f"{origin}: {where}: {key} must be {entry.constraint}, got {echo(value)}")
        default = entry.defaults[base] if entry.defaults[base] is not None else learning_rate
        if _same(value, default):
            raise ConfigError(
                f"{origin}: {where}: {key} = {echo(value)} is what the {base} base already has, so it "
                "changes nothing; drop it or give another value"
            )
        overrides.append((key, _normal(value, entry.constraint)))
    twin = builtin_twin(base, overrides, kernel_sizes)
    if twin is not None and not overrides:
        raise ConfigError(
            f"{origin}: {where}: declares no override, so it would train the built-in model {twin} "
            f"({twin.label}) again; add one (`fmnist-report variants --list` prints them)"
        )
    if twin is not None:
        raise ConfigError(
            f"{origin}: {where}: {overrides[0][0]} = {echo(overrides[0][1])} alone makes the built-in "
            f"model {twin} ({twin.label}), which the study trains already; drop the variant or change "
            "something else too"
        )
    if "name" in table:
        name = table["name"]
        if not _NAME.accepts(name):
            raise ConfigError(f"{origin}: {where}: name must be {_NAME}, got {echo(name)}")
    else:
        name = default_name(overrides)
        if len(name) > ids.NAME_LIMIT:
            raise ConfigError(
                f"{origin}: {where}: the name made from the overrides ({name}) is more than "
                f"{ids.NAME_LIMIT} characters ({len(name)}); give the variant a shorter one of its own: "
                'name = "..."'
            )
    return Variant(name=name, base=base, overrides=tuple(overrides))


def parse_variants(
    tables: Any, origin: str, *, learning_rate: float, kernel_sizes: Sequence[int]
) -> tuple[Variant, ...]:
    """The ``[[variants]]`` tables of a settings file, each checked; a ConfigError names the first mistake.

    Args:
        learning_rate: the study's own, against which a variant's ``learning_rate`` is compared.
        kernel_sizes: the kernel study's, whose CNNs a variant may not train again (`builtin_twin`).
    """
    if not isinstance(tables, list):
        raise ConfigError(
            f"{origin}: variants must be an array of tables, got {echo(tables)}; declare each variant "
            "under its own [[variants]] header"
        )
    if len(tables) > MAX_VARIANTS:
        raise ConfigError(
            f"{origin}: {len(tables)} variants declared, at most {MAX_VARIANTS}; each trains on every seed, "
            "so split the study into several settings files"
        )
    found: list[Variant] = []
    for number, table in enumerate(tables, start=1):
        label = (
            table.get("name") if isinstance(table, Mapping) and isinstance(table.get("name"), str) else None
        )
        where = f"[[variants]] #{number}" + (f" ({label})" if label and len(label) <= ids.NAME_LIMIT else "")
        variant = _one(table, where, origin, learning_rate, kernel_sizes)
        if is_builtin(variant.name):
            raise ConfigError(
                f"{origin}: {where}: name {variant.name!r} is a built-in model of the study; choose another name"
            )
        for i, other in enumerate(found, start=1):
            if other.name == variant.name:
                raise ConfigError(
                    f"{origin}: {where}: name {variant.name!r} is already used by [[variants]] #{i}; "
                    "give each variant its own name"
                )
            if (other.base, other.overrides) == (variant.base, variant.overrides):
                raise ConfigError(
                    f"{origin}: {where}: declares the same model as [[variants]] #{i} ({other.name}); "
                    "drop one of them"
                )
        found.append(variant)
    return tuple(found)


def vocabulary_rows() -> list[dict[str, str]]:
    """The vocabulary as ``fmnist-report variants --list`` prints it: key, bases, allowed values, help."""
    rows = []
    for key, entry in VOCABULARY.items():
        if all(v is None for v in entry.defaults.values()):
            defaults = f"{', '.join(entry.defaults)} (the study's {key})"
        else:
            defaults = ", ".join(f"{base} {_word(value)}" for base, value in entry.defaults.items())
        rows.append({"key": key, "bases": defaults, "allowed": str(entry.constraint), "help": entry.help})
    return rows
