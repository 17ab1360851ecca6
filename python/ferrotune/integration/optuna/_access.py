"""The only reads of an Optuna ``Study``'s private attributes in ferrotune: its storage and
its id, which Optuna's own samplers and pruners use and Optuna has no public accessor for
(these are Optuna's studies, not ferrotune's)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from optuna.storages import BaseStorage
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

__all__ = ["all_trials", "storage_of", "study_id_of", "trials_in"]


def storage_of(study: Study) -> BaseStorage:
    """The storage the study writes to (Optuna's ``study._storage``)."""
    storage: BaseStorage = study._storage
    return storage


def study_id_of(study: Study) -> int:
    """The study's id in its storage (Optuna's ``study._study_id``)."""
    return int(study._study_id)


def all_trials(study: Study) -> list[FrozenTrial]:
    """Every trial of the study, in number order, not copied."""
    return study._storage.get_all_trials(study._study_id, deepcopy=False)


def trials_in(study: Study, states: Collection[TrialState]) -> list[FrozenTrial]:
    """The study's trials in ``states``, not copied."""
    out: Any = study._storage.get_all_trials(study._study_id, deepcopy=False, states=tuple(states))
    return list(out)
