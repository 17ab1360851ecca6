"""ferrotune's brute-force sampler as an Optuna sampler: the native tree walk, run over a
view of the Optuna study that shows its trials as ferrotune trials."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from optuna.distributions import BaseDistribution
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from ferrotune import distributions as _dists
from ferrotune import samplers as _native
from ferrotune._optuna_io import _from_optuna_dist
from ferrotune.integration.optuna._access import all_trials, storage_of, study_id_of
from ferrotune.integration.optuna._mirror import _cache_key
from ferrotune.integration.optuna._samplers import _Adapter
from ferrotune.trial import TrialState as _State

__all__ = ["BruteForceSampler"]


@dataclass
class _TrialView:
    """The fields of a trial the native sampler reads, in ferrotune's types."""

    number: int
    state: _State
    params: dict[str, Any]
    distributions: dict[str, _dists.BaseDistribution]
    system_attrs: dict[str, Any]


class _StudyView:
    """The methods of a ferrotune study the native sampler calls, over an Optuna study.
    One per Optuna study (storage and id), so the native tree is kept between calls."""

    def __init__(self, study: Study) -> None:
        self.study = study
        self._dists: dict[Any, _dists.BaseDistribution] = {}

    def dist(self, name: str, d: BaseDistribution) -> _dists.BaseDistribution:
        key = _cache_key(d)
        out = self._dists.get(key)
        if out is None:
            out = self._dists[key] = _from_optuna_dist(name, d)
        return out

    def view(self, t: FrozenTrial) -> _TrialView:
        dists = {n: self.dist(n, d) for n, d in t.distributions.items()}
        return _TrialView(
            t.number, _State[t.state.name], dict(t.params), dists, dict(t.system_attrs)
        )

    def get_trial(self, number: int) -> _TrialView:
        return self.view(all_trials(self.study)[number])

    def get_trials_from(self, start: int, sync: bool = False) -> list[_TrialView]:
        return [self.view(t) for t in all_trials(self.study)[start:]]

    def set_trial_system_attr(self, number: int, key: str, value: Any) -> None:
        trial_id = all_trials(self.study)[number]._trial_id
        storage_of(self.study).set_trial_system_attr(trial_id, key, value)

    def stop(self) -> None:
        # Study.tell outside optimize() has no loop to stop.
        with contextlib.suppress(RuntimeError):
            self.study.stop()


class BruteForceSampler(_Adapter):
    """ferrotune's :class:`~ferrotune.samplers.BruteForceSampler` as an Optuna sampler.

    Every combination of the define-by-run search space once (floats need a ``step``),
    conditional branches included; the study stops when the whole tree has been tried.
    With the same ``seed`` it proposes the same trials in the same order as in a ferrotune
    study. The tree is kept between calls and updated with the trials new since the last
    one (and the unfinished ones), where Optuna's rebuilds it from every trial; it reads
    every trial of the storage, so Optuna workers sharing a storage continue one
    enumeration. Each finished trial of two parameters or more records their order in
    the system attribute ``brute_force:order`` (a database does not keep it).

    Args:
        seed: Seed of the order in which the tree is walked; None draws one.
        avoid_premature_stop: False (default, as Optuna): a branch a running trial is
            exploring counts as taken; True: only finished trials count.

    Raises:
        InvalidDistributionError: a float parameter without a ``step``.

    Deviation from Optuna's ``BruteForceSampler``: telling the last point with
    ``study.tell`` outside ``optimize`` does not raise ``RuntimeError``.
    """

    _native_class = _native.BruteForceSampler

    def _init_transient(self) -> None:
        self._views: dict[tuple[int, int], _StudyView] = {}
        self._lock = threading.Lock()

    def _view(self, study: Study) -> _StudyView:
        key = (id(storage_of(study)), study_id_of(study))
        with self._lock:
            view = self._views.get(key)
            if view is None:
                view = self._views[key] = _StudyView(study)
            view.study = study
            return view

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
        view = self._view(study)
        dist = view.dist(param_name, param_distribution)
        return self._native.sample_independent(view, view.view(trial), param_name, dist)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        view = self._view(study)
        done = view.view(trial)
        done.state = _State[state.name]
        self._native.after_trial(view, done, done.state, values)
