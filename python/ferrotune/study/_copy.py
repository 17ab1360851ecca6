"""Copying a study between storages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ferrotune.storages import get_storage
from ferrotune.trial import TrialState

if TYPE_CHECKING:
    from ferrotune.storages import BaseStorage

__all__ = ["copy_study"]


def copy_study(
    *,
    from_study_name: str,
    from_storage: str | BaseStorage,
    to_storage: str | BaseStorage,
    to_study_name: str | None = None,
) -> None:
    """Copies a study (directions, attributes, finished trials) into another storage.

    Args:
        from_study_name: The study to copy.
        from_storage: Its storage (object or URL).
        to_storage: Where to copy it (object or URL).
        to_study_name: The copy's name; defaults to ``from_study_name``.

    Raises:
        DuplicatedStudyError: When ``to_storage`` already has a study of that name.

    Finished trials keep their parameters, values, intermediate values, attributes and
    start and completion times, in the order of their numbers; WAITING trials are
    enqueued in the copy. RUNNING trials are not copied (no worker would ever finish
    them there; Optuna copies them RUNNING), so the trials after one are numbered one
    lower in the copy.
    """
    from ferrotune.samplers import RandomSampler
    from ferrotune.study._study import create_study, load_study

    src = load_study(
        study_name=from_study_name, storage=get_storage(from_storage), sampler=RandomSampler()
    )
    dst = create_study(
        storage=get_storage(to_storage),
        study_name=to_study_name if to_study_name is not None else from_study_name,
        directions=src.directions,
        sampler=RandomSampler(),
    )
    for k, v in src.system_attrs.items():
        dst.set_system_attr(k, v)
    for k, v in src.user_attrs.items():
        dst.set_user_attr(k, v)
    copied = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.WAITING)
    for t in src.get_trials(states=copied):
        dst.add_trial(t)  # with its attributes and times
