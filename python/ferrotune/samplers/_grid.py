from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune import _core
from ferrotune.exceptions import (
    InfeasibleSpaceError,
    InvalidArgumentError,
    InvalidDistributionError,
)
from ferrotune.samplers._base import BaseSampler, _seed_or_random
from ferrotune.storages._base import FIXED_PARAMS_KEY

if TYPE_CHECKING:
    import numpy.typing as npt

    from ferrotune._search_space import SearchSpace
    from ferrotune.distributions import BaseDistribution
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial, TrialState

__all__ = ["GridSampler"]

# Random draws tried for a repeated point that fits the asked space.
_REPEAT_TRIES = 1000
# The trial system attribute holding its grid point (name -> value), written at the ask so
# that other processes see it while the trial runs (Optuna's GridSampler writes an index,
# "grid_id", for the same purpose; the point itself does not depend on the grid's order).
GRID_POINT_KEY = "ferrotune:grid_point"


def _choice_key(v: Any) -> tuple[str, Any]:
    """Identity of a grid value: 1, 1.0 and True are different values."""
    return (type(v).__name__, v)


def _internal_or_nan(dist: BaseDistribution, value: Any) -> float:
    """``value`` in ``dist``'s internal representation, NaN when it has none."""
    try:
        return float(dist.to_internal_repr(value))
    except (InvalidDistributionError, ValueError, TypeError):
        return math.nan


class GridSampler(BaseSampler):
    """Grid search: every grid point once, in a seeded random order.

    The study stops by itself once every point has been handed out. Asking past the
    end (parallel workers racing for the last point) repeats a random point, as
    Optuna does. Grid points are handed out by this sampler object, so parallel
    threads of one process never share a point; trials already in the study (a
    resumed study, other processes) are read and their points skipped, including the
    points of trials other processes are still running (each trial's point is written
    at its ask as the system attribute ``"ferrotune:grid_point"``). Given to another
    study, the object starts that study's grid afresh (reading the points its trials
    already hold).

    With ``study.ask(space)`` or ``optimize(..., space=space)``, points that the space
    rules out (a constraint, a predicate) are skipped, and of the points that differ
    only in parameters the space makes inactive, only the one with their first
    listed values is used: every feasible configuration is handed out once.

    A dict grid is never materialised: the visiting order is a keyed permutation of
    the index range computed by arithmetic, and a point maps back to its index
    through each parameter's value positions, so a grid of 10^12 points costs no
    more memory than one of 10 (up to 2^128 - 1 points). A declared space is
    enumerated once, in Rust, up to 1,000,000 points and 50,000,000 enumeration
    steps (:class:`~ferrotune.exceptions.InvalidSpaceError` beyond that);
    Ctrl-C interrupts the enumeration.

    Pickling keeps the visiting order, the points handed out and the seed, so a
    study continued with an unpickled sampler goes on with the same sequence.

    Deviations from Optuna's ``GridSampler``: a declared space is accepted (only its
    feasible points are visited); the order is a seeded permutation computed by
    arithmetic rather than a shuffled list, so grids of any size cost no memory; a grid
    value outside the range its ``suggest_*`` call declares is replaced by the nearest
    valid value, with a warning (Optuna warns and returns it as given), so two such
    values run as the same point.

    Args:
        search_space: Either Optuna's form, a mapping from parameter name to the list of
            values to try (the grid is their cartesian product), or a declared
            :class:`~ferrotune.SearchSpace` whose parameters are all discrete (give
            floats a ``step``): then only active, feasible combinations are listed:
            a conditional parameter appears only where its condition holds, and no
            point violates a constraint, Python predicates included.
        seed: Seed of the visiting order; None draws one.

    Raises:
        InvalidArgumentError: an empty grid, a value that is not None, bool, int, float
            or str (or is NaN), or more than 2^128 - 1 points.
        InfeasibleSpaceError: no point of a declared space satisfies its constraints.
        InvalidSpaceError: a declared space too large to enumerate.

    Example:
        >>> sampler = GridSampler({"x": [0, 1, 2], "act": ["relu", "gelu"]}, seed=0)
        >>> study = ferrotune.create_study(sampler=sampler)  # doctest: +SKIP
    """

    def __init__(
        self,
        search_space: Mapping[str, Sequence[Any]] | SearchSpace,
        seed: int | None = None,
    ) -> None:
        from ferrotune._search_space import SearchSpace

        self._seed = _seed_or_random(seed)
        # A declared space: its feasible rows (internal values, NaN = inactive).
        self._rows: npt.NDArray[np.float64] | None = None
        self._dists: list[BaseDistribution] = []
        # A dict grid: the values of each parameter and their positions.
        self._values: list[list[Any]] = []
        self._positions: list[dict[tuple[str, Any], int]] = []
        if isinstance(search_space, SearchSpace):
            self._names: list[str] = list(search_space.names)
            self._dists = [search_space.distributions[n] for n in self._names]
            self._rows = search_space._feasible_grid()
            if len(self._rows) == 0:
                raise InfeasibleSpaceError(
                    "no point of the grid satisfies every constraint of the space"
                )
        else:
            if not isinstance(search_space, Mapping) or not search_space:
                raise InvalidArgumentError(
                    "search_space must be a non-empty mapping name -> list of values, "
                    "or a SearchSpace"
                )
            self._names = sorted(search_space)
            for name in self._names:
                vals = search_space[name]
                if isinstance(vals, np.ndarray) and vals.ndim == 1:
                    vals = vals.tolist()  # np.linspace(...), as Optuna takes it
                elif isinstance(vals, Sequence) and not isinstance(vals, (str, bytes)):
                    vals = [v.item() if isinstance(v, np.generic) else v for v in vals]
                if isinstance(vals, (str, bytes)) or not isinstance(vals, Sequence) or not vals:
                    raise InvalidArgumentError(
                        f"parameter {name!r}: grid values must be a non-empty list or 1-D "
                        f"array, got {vals!r:.80}"
                    )
                for v in vals:
                    if v is not None and not isinstance(v, (bool, int, float, str)):
                        raise InvalidArgumentError(
                            f"parameter {name!r}: grid value {v!r} must be None, bool, int, "
                            "float or str"
                        )
                    if isinstance(v, float) and math.isnan(v):
                        raise InvalidArgumentError(
                            f"parameter {name!r}: NaN cannot be a grid value (it equals no "
                            "value, so its point could never be recognised)"
                        )
                self._values.append(list(vals))
                positions: dict[tuple[str, Any], int] = {}
                for k, v in enumerate(vals):
                    positions.setdefault(_choice_key(v), k)
                self._positions.append(positions)
        self._points = self._make_points()
        self._n: int = self._points.size()
        self._order = _core.GridOrderCore(self._n, self._seed)
        self._rng = _core.RandomSamplerCore(self._seed ^ 0x6121D)
        # Trials of the study already checked for grid points (resumed studies,
        # other workers): their points are not handed out again.
        self._scanned = 0
        # Trials read before either their parameters or their grid point was visible
        # (running in another process): read again at the next scan.
        self._unseen: set[int] = set()
        # Look-ahead: the next point to hand out, already taken from the order, so
        # the study stops as soon as the last usable point is handed out.
        self._next: int | None = None
        # The space of the latest ask(space): points it rules out are skipped.
        self._space: SearchSpace | None = None
        # That space's reading of the grid points (see _fit), built once per space.
        self._fit_of: tuple[SearchSpace, _core.GridFitCore] | None = None
        # The study whose points this object hands out: its name and its core (held, so
        # that no other core can take its id). Another study (the sampler reused, as
        # Optuna allows) starts its own account of the grid.
        self._study_name: str | None = None
        self._bound_core: Any = None
        self._lock = threading.Lock()

    def _bind(self, study: Study) -> None:
        """Starts a fresh account of the grid when ``study`` is not the one this object
        serves (call with the lock held); its trials are then read again at the next
        point handed out. An unpickled sampler continues the account of the study of its
        name, as the docstring promises."""
        core = study.core
        if core is self._bound_core:
            return
        unpickled = self._bound_core is None and self._study_name == study.study_name
        if self._study_name is not None and not unpickled:
            self._order = _core.GridOrderCore(self._n, self._seed)
            self._rng = _core.RandomSamplerCore(self._seed ^ 0x6121D)
            self._scanned = 0
            self._unseen = set()
            self._next = None
            self._space = None
            self._fit_of = None
        self._study_name = study.study_name
        self._bound_core = core

    def _make_points(self) -> _core.GridPointsCore:
        """The grid's points in Rust: the declared space's rows, or the cartesian
        product of the value lists (numbered first parameter slowest)."""
        if self._rows is not None:
            return _core.GridPointsCore.rows(self._rows)
        return _core.GridPointsCore.product([len(v) for v in self._values])

    # ------------------------------------------------------------------ points
    @property
    def n_points(self) -> int:
        """Number of grid points (of a declared space: feasible points only)."""
        return self._n

    def __len__(self) -> int:
        """The number of grid points (Python's ``len`` stops at ``sys.maxsize``:
        use :attr:`n_points` for larger grids)."""
        return self._n

    def _point(self, i: int) -> dict[str, Any]:
        point = self._points.point(i)
        if self._rows is not None:
            return {
                n: d.to_external_repr(v)
                for n, d, v in zip(self._names, self._dists, point, strict=True)
                if not math.isnan(v)
            }
        return {
            name: vals[int(k)]
            for name, vals, k in zip(self._names, self._values, point, strict=True)
        }

    def _index_of(self, params: Mapping[str, Any]) -> int | None:
        """The grid index of a trial's parameters, or None when they are not a point."""
        point: list[float] = []
        if self._rows is not None:
            for name, dist in zip(self._names, self._dists, strict=True):
                v = _internal_or_nan(dist, params[name]) if name in params else math.nan
                if name in params and math.isnan(v):
                    return None
                point.append(v)
            return self._points.index_of(point)
        for name, positions in zip(self._names, self._positions, strict=True):
            if name not in params:
                return None
            v = params[name]
            k = positions.get(_choice_key(v))
            if k is None and isinstance(v, (int, float)) and not isinstance(v, bool):
                # A number recorded through suggest_int / suggest_float.
                other = float(v) if isinstance(v, int) else v
                if isinstance(other, float) and other.is_integer():
                    k = positions.get(_choice_key(int(other)))
                k = positions.get(_choice_key(other)) if k is None else k
            if k is None:
                return None
            point.append(float(k))
        return self._points.index_of(point)

    def _fit(self, space: SearchSpace | None) -> _core.GridFitCore | None:
        """How ``space`` reads the grid points (None: every point fits): for each of its
        parameters, the grid column holding it and the space's internal value of each of
        that column's values. Of the points that differ only in parameters the space
        makes inactive, only the one with their first listed values fits, so that every
        feasible configuration is handed out once."""
        if space is None:
            return None
        if self._fit_of is not None and self._fit_of[0] is space:
            return self._fit_of[1]
        columns: list[tuple[int, list[float], list[float]] | None] = []
        for name in space.names:
            if name not in self._names:
                columns.append(None)
                continue
            j = self._names.index(name)
            dist = space.distributions[name]
            if self._rows is None:
                keys = [float(k) for k in range(len(self._values[j]))]
                values = [_internal_or_nan(dist, v) for v in self._values[j]]
            else:
                col = self._rows[:, j]
                keys = sorted({float(v) for v in col if not math.isnan(v)})
                own = self._dists[j]
                values = [_internal_or_nan(dist, own.to_external_repr(k)) for k in keys]
            columns.append((j, keys, values))
        accept = space._accept_row if space._predicates else None
        fit = _core.GridFitCore(space._core, columns, self._rows is None, accept)
        self._fit_of = (space, fit)
        return fit

    def _fits(self, i: int, space: SearchSpace | None) -> bool:
        """Whether point ``i`` is a feasible configuration of ``space`` that no other
        point of the grid duplicates."""
        fit = self._fit(space)
        return fit is None or fit.fits(self._points, i)

    # -------------------------------------------------------------- the order
    def _draw(self, space: SearchSpace | None) -> int | None:
        """The next unvisited point that fits ``space``; those that do not are
        consumed."""
        return self._order.next_fitting(self._points, self._fit(space))

    def _mark_existing(self, study: Study, upto: int) -> None:
        numbers = sorted(self._unseen) + list(range(self._scanned, upto))
        self._unseen = set()
        for number in numbers:
            trial = study.get_trial(number)
            i = self._index_of(trial.params) if trial.params else None
            if i is None:
                # A trial another process runs (its parameters not written yet), or one
                # that ended before it suggested them all: its point (None when the
                # point is not one of this grid's, after the grid changed).
                point = trial.system_attrs.get(GRID_POINT_KEY)
                if isinstance(point, Mapping):
                    i = self._index_of(point)
            if i is None:
                if not trial.state.is_finished():
                    self._unseen.add(number)
                continue
            if i == self._next:
                # Handed out elsewhere: look ahead again.
                self._next = None
            else:
                self._order.mark_visited(i)
        self._scanned = max(self._scanned, upto)

    def _repeat(self, space: SearchSpace | None) -> int:
        for _ in range(_REPEAT_TRIES):
            i = min(int(self._rng.uniform() * self._n), self._n - 1)
            if self._fits(i, space):
                return i
        raise InfeasibleSpaceError(
            "GridSampler: every point of the grid has been handed out, and no point "
            "drawn to repeat satisfies the space's constraints"
        )

    def _assign(self, study: Study, trial: FrozenTrial, space: SearchSpace | None) -> None:
        if FIXED_PARAMS_KEY in trial.system_attrs:
            return  # an enqueued trial keeps its values and uses no point, as in Optuna
        if study.get_fixed_params(trial.number) is not None:
            return
        with self._lock:
            self._bind(study)
            if space is not None:
                self._space = space
            if self._scanned < trial.number:
                self._mark_existing(study, trial.number)
            i, self._next = self._next, None
            if i is not None and not self._fits(i, space):
                i = None
            if i is None:
                i = self._draw(space)
            if i is None:
                i = self._repeat(space)
                study.stop()
            else:
                self._next = self._draw(space)
                if self._next is None:
                    study.stop()
            point = self._point(i)
        study.set_fixed_params(trial.number, point)
        # Written through at once, so that other processes skip the point while the
        # trial runs (its parameters reach the storage later).
        study.set_trial_system_attr(trial.number, GRID_POINT_KEY, point)

    # ------------------------------------------------------------------ hooks
    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._assign(study, trial, None)

    def _before_trial_in_space(self, study: Study, trial: FrozenTrial, space: SearchSpace) -> None:
        """``before_trial`` of ``study.ask(space)``: points the space rules out are skipped."""
        self._assign(study, trial, space)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        with self._lock:
            self._bind(study)
            if self._next is None:
                self._next = self._draw(self._space)
            if self._next is None:
                study.stop()

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        if FIXED_PARAMS_KEY in trial.system_attrs and param_name in self._names:
            raise InvalidArgumentError(
                f"parameter {param_name!r}: trial {trial.number} was enqueued without it; "
                "GridSampler gives an enqueued trial no grid point, so enqueue every "
                "parameter of the grid"
            )
        if param_name in self._names:
            raise InvalidArgumentError(
                f"parameter {param_name!r}: this trial's grid value is not a value of "
                f"{param_distribution!r} (a categorical grid value must equal a choice)"
            )
        raise InvalidArgumentError(
            f"parameter {param_name!r} is not in the GridSampler's search space ({self._names})"
        )

    def is_exhausted(self, study: Any = None) -> bool:
        """True once every grid point has been handed out (or ruled out by the space
        of ``study.ask(space)``), for ``study`` when given (as Optuna's method takes it),
        else for the study this object serves: the sampler keeps its own account of the
        points it handed out, one study at a time."""
        with self._lock:
            if study is not None and hasattr(study, "core"):
                self._bind(study)
                self._mark_existing(study, study.core.n_trials())
            if self._next is None:
                self._next = self._draw(self._space)
            return self._next is None

    # ---------------------------------------------------------------- pickling
    def __getstate__(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["_order"] = self._order.get_state()
        d["_rng"] = self._rng.get_state()
        del d["_lock"], d["_points"]
        d["_bound_core"] = None  # the study's name is kept; its core is found again
        # The asked space may hold lambdas; the next ask(space) sets it again.
        d["_space"] = d["_fit_of"] = None
        return d

    def __setstate__(self, state: dict[str, Any]) -> None:
        order_state = state.pop("_order")
        rng_state = state.pop("_rng")
        state.setdefault("_unseen", set())  # pickled before it existed
        self.__dict__.update(state)
        self._order = _core.GridOrderCore(self._n, self._seed)
        self._order.set_state(tuple(order_state))
        self._rng = _core.RandomSamplerCore(0)
        self._rng.set_state(rng_state)
        self._points = self._make_points()
        self._lock = threading.Lock()
