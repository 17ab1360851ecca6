"""What the forest evaluators (fANOVA, MDI) share: Optuna's choice of parameters and
trials, the forest's arguments, and the columns handed to the core."""

from __future__ import annotations

import numbers
import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.importance import _data

if TYPE_CHECKING:
    from ferrotune.distributions import BaseDistribution
    from ferrotune.study import Study
    from ferrotune.trial import FrozenTrial

Columns = list[tuple[np.ndarray, _core.Dist]]


class ForestArguments:
    """The forest's arguments (Optuna's names), checked once."""

    def __init__(self, n_trees: Any, max_depth: Any, seed: Any) -> None:
        for name, value in (("n_trees", n_trees), ("max_depth", max_depth)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise InvalidArgumentError(f"{name} must be an int >= 1, got {value!r}")
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0
        ):
            raise InvalidArgumentError(f"seed must be None or an int >= 0, got {seed!r}")
        self.n_trees = int(n_trees)
        self.max_depth = int(max_depth)
        self.seed = seed

    def draw_seed(self) -> int:
        """The forest's seed: ``seed`` (reduced to 64 bits), else a fresh random one."""
        if self.seed is None:
            return random.SystemRandom().getrandbits(64)
        return int(self.seed) % 2**64


def _check_objectives(study: Study, target: Callable[[FrozenTrial], float] | None) -> None:
    if target is None and len(study.directions) > 1:
        raise InvalidArgumentError(
            "If the `study` is being used for multi-objective optimization, "
            "please specify the `target`. For example, use "
            "`target=lambda t: t.values[0]` for the first objective value."
        )


def distributions(
    study: Study,
    params: list[str] | None,
    target: Callable[[FrozenTrial], float] | None,
    complete: list[FrozenTrial],
) -> dict[str, BaseDistribution]:
    """The parameters to score, by name, as Optuna's forest evaluators choose them: with
    ``params=None`` those every COMPLETE trial has with one distribution; otherwise the
    given ones, from the trials that have all of them (which must agree).

    Raises:
        InvalidArgumentError: Several objectives without ``target``; no COMPLETE trial
            has all of ``params``; their distributions differ between trials.
        TypeError: ``params`` is not a list of names.
    """
    _check_objectives(study, target)
    _data.check_params(params)
    if params is None:
        # Over the COMPLETE trials, as Optuna's evaluators: the study's intersection space
        # (the samplers') counts PRUNED trials too, and one pruned before a parameter was
        # suggested would drop that parameter from the importances.
        return dict(sorted(_complete_intersection(complete).items()))
    if not params:
        return {}
    found: dict[str, BaseDistribution] | None = None
    for t in complete:
        if not all(p in t.distributions for p in params):
            continue
        mine = {p: t.distributions[p] for p in params}
        if found is None:
            found = mine
        elif mine != found:
            raise InvalidArgumentError(
                "Parameters importances cannot be assessed with dynamic search spaces if "
                f"parameters are specified. Specified parameters: {params}."
            )
    if found is None:
        raise InvalidArgumentError(
            "Study must contain completed trials with all specified parameters. "
            f"Specified parameters: {params}."
        )
    return dict(sorted(found.items()))


def usable_trials(
    complete: list[FrozenTrial],
    names: Sequence[str],
    target: Callable[[FrozenTrial], float] | None,
) -> tuple[list[FrozenTrial], np.ndarray]:
    """The trials that have every one of ``names`` and a finite target, and the target
    values (the objective value without ``target``)."""
    having = [t for t in complete if all(n in t.params for n in names)]
    values = _data.target_values(having, target)
    keep = np.isfinite(values)
    return [t for t, k in zip(having, keep, strict=True) if k], values[keep]


def columns(trials: Sequence[FrozenTrial], dists: dict[str, BaseDistribution]) -> Columns:
    """Each parameter's internal values over ``trials``, with its core distribution."""
    out: Columns = []
    for name, dist in dists.items():
        values = np.fromiter(
            (dist.to_internal_repr(t.params[name]) for t in trials), float, len(trials)
        )
        out.append((values, _data.core_dist(dist)))
    return out


def _complete_intersection(complete: list[FrozenTrial]) -> dict[str, BaseDistribution]:
    """The parameters every trial of ``complete`` has, each with one distribution shared by
    all (Optuna's ``intersection_search_space`` of the COMPLETE trials)."""
    if not complete:
        return {}
    space = dict(complete[0].distributions)
    for t in complete[1:]:
        space = {n: d for n, d in space.items() if t.distributions.get(n) == d}
        if not space:
            break
    return space
