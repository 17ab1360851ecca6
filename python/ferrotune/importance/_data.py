"""What the evaluators read from a study: its COMPLETE trials as columns of numbers."""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune import _core
from ferrotune.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.study import StudyDirection
from ferrotune.trial import TrialState

if TYPE_CHECKING:
    from ferrotune.distributions import BaseDistribution
    from ferrotune.study import Study
    from ferrotune.trial import FrozenTrial

_PACKAGE_DIR = __file__.rsplit("/importance/", 1)[0]

Target = Callable[["FrozenTrial"], float] | None


def warn(message: str) -> None:
    """A ``UserWarning`` attributed to the first caller outside ferrotune."""
    frame = sys._getframe(1)
    level = 2
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    warnings.warn(message, UserWarning, stacklevel=level)


def check_params(params: Any) -> None:
    """Optuna's checks of the ``params`` argument (a list or tuple of names)."""
    if params is None:
        return
    if not isinstance(params, (list, tuple)):
        raise TypeError(f"Parameters must be specified as a list. Actual parameters: {params}.")
    if any(not isinstance(p, str) for p in params):
        raise TypeError(
            "Parameters must be specified by their names with strings. "
            f"Actual parameters: {params}."
        )


def complete_trials(study: Study) -> list[FrozenTrial]:
    """The study's COMPLETE trials, in order of their numbers."""
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def target_values(trials: Sequence[FrozenTrial], target: Target) -> np.ndarray:
    """``target(trial)`` of each trial, else its (single) objective value, as floats."""
    if target is None:
        return np.array([_values(t)[0] for t in trials], dtype=float)
    return np.array([float(target(t)) for t in trials], dtype=float)


def _values(trial: FrozenTrial) -> list[float]:
    """The objective values of a COMPLETE trial."""
    return list(trial.values or ())


def finite_rows(trials: list[FrozenTrial], target: Target) -> list[FrozenTrial]:
    """The trials whose target (or every objective value, without ``target``) is finite."""
    if target is not None:
        return [t for t in trials if math.isfinite(target(t))]
    return [t for t in trials if all(math.isfinite(v) for v in _values(t))]


def losses(study: Study, trials: Sequence[FrozenTrial], target: Target) -> np.ndarray:
    """Trials x objectives, every objective minimised: the objective values signed by
    their direction, or ``target`` (lower is better) as one column."""
    if target is not None:
        return target_values(trials, target)[:, None]
    signs = np.array([-1.0 if d == StudyDirection.MAXIMIZE else 1.0 for d in study.directions])
    values = np.array([_values(t) for t in trials], dtype=float).reshape(len(trials), len(signs))
    out: np.ndarray = values * signs
    return out


def regime_column(
    trials: Sequence[FrozenTrial], name: str
) -> tuple[np.ndarray, np.ndarray, list[_core.Dist]]:
    """Parameter ``name`` over ``trials``: its internal value per trial (NaN where a
    trial lacks it), its regime (k + 1 for the k-th distinct distribution it had, 0
    where absent) and those distributions (as the core's)."""
    regimes: dict[BaseDistribution, int] = {}
    # The trials of one study share their distribution objects: look them up by
    # identity first (a distribution's own hash is computed in Python).
    by_id: dict[int, tuple[int, bool]] = {}
    values = np.full(len(trials), np.nan)
    regime = np.zeros(len(trials), dtype=np.uint32)
    for i, t in enumerate(trials):
        dist = t.distributions.get(name)
        if dist is None:
            continue
        seen = by_id.get(id(dist))
        if seen is None:
            k = regimes.setdefault(dist, len(regimes) + 1)
            seen = by_id[id(dist)] = (k, isinstance(dist, CategoricalDistribution))
        regime[i] = seen[0]
        v = t.params[name]
        values[i] = dist.to_internal_repr(v) if seen[1] else v
    return values, regime, [core_dist(d) for d in regimes]


def core_dist(dist: BaseDistribution) -> _core.Dist:
    """The core's copy of a distribution, built from its public attributes."""
    if isinstance(dist, CategoricalDistribution):
        return _core.Dist.categorical("", len(dist.choices))
    if isinstance(dist, IntDistribution):
        return _core.Dist.int("", dist.low, dist.high, dist.step, dist.log)
    if isinstance(dist, FloatDistribution):
        return _core.Dist.float("", dist.low, dist.high, dist.step, dist.log)
    raise InvalidArgumentError(f"unsupported distribution {dist!r}")


def unknown_params(params: Sequence[str], trials: Sequence[FrozenTrial]) -> list[str]:
    """The names in ``params`` that no trial of ``trials`` has."""
    seen = {name for t in trials for name in t.distributions}
    return [p for p in params if p not in seen]


def require_known(params: Sequence[str], trials: Sequence[FrozenTrial]) -> None:
    """Optuna's error for parameters that no COMPLETE trial has."""
    if missing := unknown_params(params, trials):
        raise InvalidArgumentError(
            "Study must contain at least one completed trial for each specified parameter. "
            f"Missing parameters: {missing}."
        )
