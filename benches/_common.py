"""Shared helpers for the benchmark scripts: library discovery, adapters, output.

Every peer is optional: a library that fails to import is reported and skipped.  ferrotune is
optional too, so the scripts also run before the extension module is built.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import json
import math
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import numpy as np

LIBRARIES = ("ferrotune", "optuna", "rustuna", "hyperopt", "skopt", "cmaes", "nevergrad")
PEERS = LIBRARIES[1:]
_DIST_NAMES = {"skopt": "scikit-optimize"}

_unavailable: dict[str, str] = {}


def quiet() -> None:
    """Silence the peers' logging and warnings (experimental-feature notices and the like)."""
    warnings.simplefilter("ignore")
    import logging

    logging.getLogger("hyperopt").setLevel(logging.ERROR)
    import ferrotune.logging

    # As for Optuna below: no log line per trial inside a timed loop.
    ferrotune.logging.set_verbosity(ferrotune.logging.ERROR)
    try:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
    except ImportError:
        pass


def load(name: str) -> ModuleType | None:
    """Import a library by name, or return ``None`` (and remember why) if that fails."""
    if name in _unavailable:
        return None
    try:
        if name == "ferrotune":
            mod = importlib.import_module("ferrotune")
            importlib.import_module("ferrotune.samplers")
        elif name == "hyperopt":
            mod = importlib.import_module("hyperopt")
        else:
            mod = importlib.import_module(name)
    except Exception as exc:
        _unavailable[name] = f"{type(exc).__name__}: {exc}"
        print(f"# skipping {name}: {_unavailable[name]}", file=sys.stderr)
        return None
    return mod


def version(name: str) -> str:
    try:
        return importlib.metadata.version(_DIST_NAMES.get(name, name))
    except importlib.metadata.PackageNotFoundError:
        return "?"


def unavailable() -> dict[str, str]:
    return dict(_unavailable)


def print_versions(libs: Iterable[str]) -> None:
    """The footer of every bench: the versions of the libraries run, and why others did not."""
    print("versions: " + ", ".join(f"{lib} {version(lib)}" for lib in libs))
    for lib, why in unavailable().items():
        print(f"not run: {lib} ({why})")


def load_benchmarks() -> ModuleType:
    """``ferrotune.benchmarks``, or its source file from this checkout if ferrotune is missing."""
    try:
        return importlib.import_module("ferrotune.benchmarks")
    except ImportError:
        pass
    path = Path(__file__).resolve().parents[1] / "python/ferrotune/benchmarks/_problems.py"
    spec = importlib.util.spec_from_file_location("_ferrotune_problems", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    print("# ferrotune.benchmarks not installed; using the checkout's source", file=sys.stderr)
    return mod


# --- Output ------------------------------------------------------------------------------------


class Recorder:
    """Prints one JSON object per line to stdout, and appends it to ``--out`` if given."""

    def __init__(self, out: str | None) -> None:
        self._fh: IO[str] | None = open(out, "a", encoding="utf-8") if out else None  # noqa: SIM115
        self.records: list[dict[str, Any]] = []

    def emit(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        line = json.dumps(record, sort_keys=False)
        print(line, flush=True)
        if self._fh is not None:
            self._fh.write(line + "\n")
            self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(x: float | None, digits: int = 3) -> str:
    """A compact number: 3 significant digits, no exponent between 1e-3 and 1e6."""
    if x is None or math.isnan(x):
        return "-"
    if x == 0 or math.isinf(x):
        return str(x)
    if abs(x) >= 1e6 or abs(x) < 1e-3:
        return f"{x:.{digits - 1}e}"
    if abs(x) >= 10 ** (digits - 1):
        return f"{x:.0f}"
    return f"{x:.{digits}g}"


def parse_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [t.strip() for t in text.split(",") if t.strip()]


# --- Ask/tell adapters (ferrotune, optuna, rustuna share one interface) --------------------------


def _construct(cls: Callable[..., Any], seed: int, **extra: Any) -> Any:
    """``cls(seed=seed, **extra)``, dropping extra keywords the class does not take."""
    try:
        return cls(seed=seed, **extra)
    except TypeError:
        if not extra:
            raise
        return cls(seed=seed)


def ask_tell_sampler(library: str, sampler: str, seed: int) -> Any | None:
    """A sampler object for an ask/tell library, or ``None`` if it has no such sampler."""
    mod = load(library)
    if mod is None:
        return None
    samplers = mod.samplers
    if sampler == "random":
        return samplers.RandomSampler(seed=seed)
    if sampler == "default":
        # What create_study() uses without a sampler: ferrotune's AutoSampler, TPE for
        # Optuna and rustuna.
        if library == "ferrotune":
            return samplers.AutoSampler(seed=seed)
        return samplers.TPESampler(seed=seed) if hasattr(samplers, "TPESampler") else None
    if sampler == "tpe" and hasattr(samplers, "TPESampler"):
        return samplers.TPESampler(seed=seed)
    if sampler == "qmc" and hasattr(samplers, "QMCSampler") and library != "rustuna":
        # Scrambled, so that seeds give different sequences.
        return _construct(samplers.QMCSampler, seed, scramble=True)
    if sampler == "cmaes" and hasattr(samplers, "CmaEsSampler"):
        return samplers.CmaEsSampler(seed=seed)
    if library == "ferrotune":
        # Population samplers and restart strategies that only ferrotune has under these names
        # (Optuna 4.4 removed CmaEsSampler's restart_strategy).
        population = {
            "cmaes-ipop": ("CmaEsSampler", {"restart_strategy": "ipop"}),
            "cmaes-bipop": ("CmaEsSampler", {"restart_strategy": "bipop"}),
            "de": ("DESampler", {}),
            "pso": ("PSOSampler", {}),
            "ga": ("GASampler", {}),
            "ga-p20": ("GASampler", {"population_size": 20}),
            "ga-aging": ("GASampler", {"mode": "aging"}),
        }
        if sampler in population and hasattr(samplers, population[sampler][0]):
            cls_name, kw = population[sampler]
            return getattr(samplers, cls_name)(seed=seed, **kw)
    if sampler == "gp-power" and library == "ferrotune":
        # The GP with its output power transform (Box-Cox / Yeo-Johnson) only.
        return samplers.GPSampler(seed=seed, output_transform="power", input_warping=False)
    if sampler == "gp-warp" and library == "ferrotune":
        # The GP with Kumaraswamy input warping only.
        return samplers.GPSampler(seed=seed, input_warping=True, output_transform=None)
    if sampler == "gp-plain" and library == "ferrotune":
        # The GP without either (its defaults turn both on for small numeric spaces).
        return samplers.GPSampler(seed=seed, input_warping=False, output_transform=None)
    if sampler == "gp-warp-power" and library == "ferrotune":
        # Input warping and the output power transform together.
        return samplers.GPSampler(seed=seed, input_warping=True, output_transform="power")
    if sampler == "gp" and hasattr(samplers, "GPSampler"):
        if library == "optuna" and importlib.util.find_spec("torch") is None:
            return None  # optuna's GPSampler needs torch, which these benches do not install
        return samplers.GPSampler(seed=seed)
    return None


def create_study(library: str, sampler: Any) -> tuple[Any, Callable[[Any], Any]]:
    """A minimising study and the function that maps a trial to ``tell``'s first argument.

    ferrotune and optuna take the trial itself; rustuna takes the trial number.
    """
    mod = load(library)
    assert mod is not None
    study = mod.create_study(direction="minimize", sampler=sampler)
    if library == "rustuna":
        return study, _trial_number
    return study, _identity


def _identity(trial: Any) -> Any:
    return trial


def _trial_number(trial: Any) -> Any:
    return trial.number


def suggest_all(trial: Any, params: Mapping[str, Any]) -> dict[str, Any]:
    """Suggest every parameter of a problem (``name -> Param``) on an Optuna-style trial."""
    out: dict[str, Any] = {}
    for name, p in params.items():
        if p.kind == "float":
            out[name] = trial.suggest_float(name, p.low, p.high, step=p.step, log=p.log)
        elif p.kind == "int":
            step = 1 if p.step is None else int(p.step)
            out[name] = trial.suggest_int(name, int(p.low), int(p.high), step=step, log=p.log)
        else:
            out[name] = trial.suggest_categorical(name, list(p.choices))
    return out


# --- hyperopt ----------------------------------------------------------------------------------


def hyperopt_space(
    params: Mapping[str, Any],
) -> tuple[dict[str, Any], Callable[[Mapping[str, Any]], dict[str, Any]]]:
    """A hyperopt space for a problem, and the map from hyperopt's sample back to its params.

    Ints (and stepped floats) become ``quniform`` over the grid index; the index range is widened
    by half a step on each side so that the end points are as likely as the inner ones.
    """
    from hyperopt import hp

    space: dict[str, Any] = {}
    decoders: dict[str, Callable[[Any], Any]] = {}
    for name, p in params.items():
        if p.kind == "categorical":
            space[name] = hp.choice(name, list(p.choices))
            decoders[name] = _identity
        elif p.step is None and p.kind == "float":
            if p.log:
                space[name] = hp.loguniform(name, math.log(p.low), math.log(p.high))
            else:
                space[name] = hp.uniform(name, p.low, p.high)
            decoders[name] = float
        elif p.log:  # log-scale int
            lo, hi = math.log(p.low - 0.5 + 1e-9), math.log(p.high + 0.5 - 1e-9)
            space[name] = hp.qloguniform(name, lo, hi, 1)
            decoders[name] = _clip_int(int(p.low), int(p.high))
        else:
            step = 1 if p.step is None else p.step
            n = round((p.high - p.low) / step)
            space[name] = hp.quniform(name, -0.5 + 1e-9, n + 0.5 - 1e-9, 1)
            decoders[name] = _grid(p.low, step, n, p.kind == "int")

    def decode(sample: Mapping[str, Any]) -> dict[str, Any]:
        return {k: decoders[k](v) for k, v in sample.items()}

    return space, decode


def _clip_int(lo: int, hi: int) -> Callable[[Any], int]:
    return lambda v: min(hi, max(lo, round(float(v))))


def _grid(low: float, step: float, n: int, as_int: bool) -> Callable[[Any], Any]:
    def f(v: Any) -> Any:
        k = min(n, max(0, round(float(v))))
        return round(low + k * step) if as_int else low + k * step

    return f


def hyperopt_algo(sampler: str) -> Any | None:
    if load("hyperopt") is None:
        return None
    from hyperopt import rand, tpe

    return {"random": rand.suggest, "tpe": tpe.suggest}.get(sampler)


# --- scikit-optimize ---------------------------------------------------------------------------


def skopt_space(
    params: Mapping[str, Any],
) -> tuple[list[Any], Callable[[Sequence[Any]], dict[str, Any]]]:
    """skopt dimensions for a problem, and the map from an ``ask()`` point back to its params."""
    from skopt.space import Categorical, Integer, Real

    dims: list[Any] = []
    decoders: list[Callable[[Any], Any]] = []
    for name, p in params.items():
        prior = "log-uniform" if p.log else "uniform"
        if p.kind == "categorical":
            dims.append(Categorical(list(p.choices), name=name))
            decoders.append(_py_scalar)
        elif p.kind == "float" and p.step is None:
            dims.append(Real(p.low, p.high, prior=prior, name=name))
            decoders.append(float)
        elif p.step in (None, 1) and p.kind == "int":
            dims.append(Integer(int(p.low), int(p.high), prior=prior, name=name))
            decoders.append(int)
        else:
            n = round((p.high - p.low) / p.step)
            dims.append(Integer(0, n, name=name))
            decoders.append(_grid(p.low, p.step, n, p.kind == "int"))
    names = list(params)

    def decode(point: Sequence[Any]) -> dict[str, Any]:
        return {n: d(v) for n, d, v in zip(names, decoders, point, strict=True)}

    return dims, decode


def _py_scalar(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


SKOPT_ESTIMATORS = {"random": "dummy", "gp": "GP"}


# --- Statistics --------------------------------------------------------------------------------


def median(xs: Sequence[float]) -> float:
    return float(np.median(np.asarray(xs, dtype=float))) if xs else float("nan")


def quartiles(xs: Sequence[float]) -> tuple[float, float, float]:
    if not xs:
        nan = float("nan")
        return nan, nan, nan
    q = np.percentile(np.asarray(xs, dtype=float), [25.0, 50.0, 75.0])
    return float(q[0]), float(q[1]), float(q[2])
