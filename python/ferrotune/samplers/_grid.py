from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers._base import BaseSampler, _seed_or_random

if TYPE_CHECKING:
    from ferrotune._search_space import SearchSpace
    from ferrotune.distributions import BaseDistribution
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial, TrialState

__all__ = ["GridSampler"]


class GridSampler(BaseSampler):
    """Grid search: every point of a grid once, in a seeded random order.

    Args:
        search_space: Either Optuna's form, a mapping from parameter name to the list of
            values to try (the grid is their cartesian product), or a declared
            :class:`~ferrotune.SearchSpace` whose parameters are all discrete (give
            floats a ``step``): then only active, feasible combinations are listed:
            a conditional parameter appears only where its condition holds, and no
            point violates a hard constraint.
        seed: Seed of the visiting order; None draws one.

    The study stops by itself once every point has been handed out. Asking past the
    end repeats a random point (as Optuna does). Grid points are handed out by this
    sampler object, so parallel threads of one process never share a point.
    """

    def __init__(
        self,
        search_space: Mapping[str, Sequence[Any]] | SearchSpace,
        seed: int | None = None,
    ) -> None:
        from ferrotune._search_space import SearchSpace

        self._seed = _seed_or_random(seed)
        self._declared: SearchSpace | None = None
        if isinstance(search_space, SearchSpace):
            self._declared = search_space
            rows = search_space._core.enumerate_grid()
            self._points: list[dict[str, Any]] | None = [
                search_space._external(row) for row in rows.tolist()
            ]
            self._names: list[str] = list(search_space.names)
            self._values: list[list[Any]] = []
            n = len(self._points)
        else:
            if not isinstance(search_space, Mapping) or not search_space:
                raise InvalidArgumentError(
                    "search_space must be a non-empty mapping name -> list of values, "
                    "or a SearchSpace"
                )
            self._points = None
            self._names = sorted(search_space)
            self._values = []
            for name in self._names:
                vals = search_space[name]
                if isinstance(vals, (str, bytes)) or not isinstance(vals, Sequence) or not vals:
                    raise InvalidArgumentError(
                        f"parameter {name!r}: grid values must be a non-empty list"
                    )
                for v in vals:
                    if v is not None and not isinstance(v, (bool, int, float, str)):
                        raise InvalidArgumentError(
                            f"parameter {name!r}: grid value {v!r} must be None, bool, int, "
                            "float or str"
                        )
                self._values.append(list(vals))
            n = math.prod(len(v) for v in self._values)
        if n == 0:
            raise InvalidArgumentError("the grid is empty")
        self._n = n
        self._order = _core.GridOrderCore(n, self._seed)
        self._rng = _core.RandomSamplerCore(self._seed ^ 0x6121D)
        # Trials of the study already checked for grid points (resumed studies,
        # other workers): their points are not handed out again.
        self._scanned = 0
        self._index: dict[tuple[Any, ...], int] | None = None

    def _key(self, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        if any(n not in params for n in self._names):
            return None
        return tuple((type(params[n]).__name__, params[n]) for n in self._names)

    def _index_of(self, params: Mapping[str, Any]) -> int | None:
        if self._index is None:
            self._index = {}
            for i in range(self._n):
                k = self._key(self._point(i))
                if k is not None:
                    self._index.setdefault(k, i)
        k = self._key(params)
        return None if k is None else self._index.get(k)

    def _mark_existing(self, study: Study, upto: int) -> None:
        for number in range(self._scanned, upto):
            i = self._index_of(study._frozen(number).params)
            if i is not None:
                self._order.mark_visited(i)
        self._scanned = max(self._scanned, upto)

    def __len__(self) -> int:
        return self._n

    def _point(self, i: int) -> dict[str, Any]:
        if self._points is not None:
            return self._points[i]
        out: dict[str, Any] = {}
        for name, vals in zip(reversed(self._names), reversed(self._values), strict=True):
            i, k = divmod(i, len(vals))
            out[name] = vals[k]
        return out

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        if study._has_fixed(trial.number):
            return
        if self._scanned < trial.number:
            self._mark_existing(study, trial.number)
        i = self._order.next_index()
        if i is None:
            i = int(self._rng.uniform() * self._n) % self._n
            study.stop()
        study._set_fixed(trial.number, self._point(i))

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        if self._order.remaining() == 0:
            study.stop()

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        raise InvalidArgumentError(
            f"parameter {param_name!r} is not in the GridSampler's search space ({self._names})"
        )

    def is_exhausted(self) -> bool:
        """True once every grid point has been handed out."""
        return bool(self._order.remaining() == 0)
