"""ferrotune's grid sampler as an Optuna sampler, with Optuna's grid bookkeeping (the trial
system attributes ``grid_id`` and ``search_space``) so Optuna workers on one storage share
one grid."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from optuna.distributions import BaseDistribution
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from ferrotune import _core
from ferrotune import samplers as _native
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.integration.optuna._access import all_trials, storage_of
from ferrotune.integration.optuna._samplers import _Adapter

__all__ = ["GridSampler"]

_logger = logging.getLogger(__name__)

GRID_ID_KEY = "grid_id"
SPACE_KEY = "search_space"


class GridSampler(_Adapter):
    """ferrotune's :class:`~ferrotune.samplers.GridSampler` as an Optuna sampler.

    Every grid point once, in ferrotune's seeded order: with the same ``search_space`` and
    ``seed``, an Optuna study visits the same points in the same order as a ferrotune study.
    As Optuna's ``GridSampler``, trial ``k`` (for ``k`` below the number of points) takes
    the ``k``-th point of the order, so workers sharing a storage never run a point twice
    (trial numbers are unique); later trials (after enqueued or retried ones) take the first
    point in the order that no finished or running trial holds. Each trial stores its point
    as Optuna's system attributes ``grid_id`` (the point's index in the cartesian product of
    the value lists, parameters sorted by name, the first slowest) and ``search_space``.
    Once every point has been started, the study stops (``study.stop()``) when the last
    one finishes; a trial asked past the end repeats a random point with a warning, as in
    Optuna. Huge grids cost no memory, as the native sampler.

    Args:
        search_space: A mapping from parameter name to the list of values to try (None,
            bool, int, float or str).
        seed: Seed of the visiting order; None draws one.

    Raises:
        InvalidArgumentError: as the ferrotune class; and a declared
            :class:`~ferrotune.SearchSpace`, which an Optuna study cannot hold (its
            constraints and conditions are ferrotune's; give the value lists instead).

    Deviations from the ferrotune class: ``study.ask(space)`` does not exist in Optuna, so
    no point is skipped for a space. ``grid_id`` numbers the unshuffled product, not
    Optuna's shuffled list, so this sampler and Optuna's must not share a study.
    Optuna's ``GridSampler`` makes ``study.tell`` of the last point raise ``RuntimeError``
    outside ``optimize`` (``study.stop()`` has no loop to stop); this one does not.
    ``reseed_rng`` changes only the choice of a repeated point, as Optuna's (its order is
    drawn at construction).
    """

    _native_class = _native.GridSampler

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        space = args[0] if args else kwargs.get("search_space")
        if space is not None and not isinstance(space, Mapping):
            raise InvalidArgumentError(
                "search_space must be a mapping name -> list of values: an Optuna study "
                f"cannot hold a declared space's constraints (got {type(space).__name__})"
            )
        super().__init__(*args, **kwargs)
        native = self._native
        self._space = {n: list(v) for n, v in zip(native._names, native._values, strict=True)}

    def __getstate__(self) -> dict[str, Any]:
        return {"_native": self._native, "_space": self._space}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._space = state["_space"]
        super().__setstate__(state)

    def _init_transient(self) -> None:
        # The first points of the order, extended as trial numbers grow.
        self._prefix: list[int] = []
        self._order = _core.GridOrderCore(self._native._n, self._native._seed)
        self._lock = threading.Lock()

    @property
    def n_points(self) -> int:
        """Number of grid points."""
        return int(self._native.n_points)

    def __len__(self) -> int:
        """The number of grid points (use :attr:`n_points` past ``sys.maxsize``)."""
        return len(self._native)

    def _kth(self, k: int) -> int:
        """The index of the ``k``-th point of the order."""
        with self._lock:
            while len(self._prefix) <= k:
                i = self._order.next_index()
                if i is None:  # pragma: no cover - k is below the number of points
                    raise InvalidArgumentError(f"trial number {k} is past the grid")
                self._prefix.append(i)
            return self._prefix[k]

    def _held(self, study: Study) -> tuple[list[int], list[int]]:
        """The grid ids of this grid held by finished and by running trials."""
        finished: list[int] = []
        running: list[int] = []
        for t in all_trials(study):
            attrs = t.system_attrs
            if GRID_ID_KEY in attrs and attrs.get(SPACE_KEY) == self._space:
                if t.state.is_finished():
                    finished.append(int(attrs[GRID_ID_KEY]))
                elif t.state == TrialState.RUNNING:
                    running.append(int(attrs[GRID_ID_KEY]))
        return finished, running

    def _unvisited(self, study: Study) -> _core.GridOrderCore:
        """The order with the points of finished and running trials marked; once every
        point has been started, with those of finished trials only (as Optuna)."""
        finished, running = self._held(study)
        order = self._marked([*finished, *running])
        return order if order.remaining() > 0 else self._marked(finished)

    def _marked(self, grid_ids: list[int]) -> _core.GridOrderCore:
        order = _core.GridOrderCore(self._native._n, self._native._seed)
        for i in grid_ids:
            order.mark_visited(i)
        return order

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        # Retried trials keep their grid_id; enqueued ones their values, as in Optuna.
        if GRID_ID_KEY in trial.system_attrs or "fixed_params" in trial.system_attrs:
            return
        grid_id: int | None
        if trial.number < self._native._n:
            grid_id = self._kth(trial.number)
        else:
            grid_id = self._unvisited(study).next_index()
            if grid_id is None:
                _logger.warning(
                    "GridSampler is repeating a point: every point of the grid has been "
                    "evaluated (workers racing for the last points, or a finished study "
                    "run again)"
                )
                with self._lock:
                    grid_id = self._native._repeat(None)
        storage = storage_of(study)
        storage.set_trial_system_attr(trial._trial_id, SPACE_KEY, self._space)
        storage.set_trial_system_attr(trial._trial_id, GRID_ID_KEY, grid_id)

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return {}

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        if GRID_ID_KEY not in trial.system_attrs:
            raise InvalidArgumentError(
                f"parameter {param_name!r}: trial {trial.number} was enqueued without it; "
                "GridSampler gives an enqueued trial no grid point, so enqueue every "
                "parameter of the grid"
            )
        if param_name not in self._space:
            raise InvalidArgumentError(
                f"parameter {param_name!r} is not in the GridSampler's search space "
                f"({sorted(self._space)})"
            )
        value = self._native._point(int(trial.system_attrs[GRID_ID_KEY]))[param_name]
        if not param_distribution._contains(param_distribution.to_internal_repr(value)):
            _logger.warning(
                f"GridSampler: value {value!r} of parameter {param_name!r} is outside "
                f"{param_distribution}; it is used anyway, as in Optuna"
            )
        return value

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        order = self._unvisited(study)
        left = order.remaining()
        if left == 1:
            # Enqueued trials hold no point and must not stop the grid's last one.
            grid_id = storage_of(study).get_trial_system_attrs(trial._trial_id).get(GRID_ID_KEY)
            left = 0 if grid_id is not None and grid_id == order.next_index() else 1
        if left == 0:
            # Study.tell outside optimize() has no loop to stop.
            with contextlib.suppress(RuntimeError):
                study.stop()

    def is_exhausted(self, study: Study) -> bool:
        """True once a finished trial of ``study`` holds every grid point, as Optuna's
        method."""
        return bool(self._unvisited(study).remaining() == 0)

    def __repr__(self) -> str:
        return (
            f"ferrotune.integration.optuna.GridSampler({self._space!r}, seed={self._native._seed})"
        )
