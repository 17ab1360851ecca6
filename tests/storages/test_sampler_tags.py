"""Sampler tags (a population method's generation of each trial, ``History::tag`` in the
core) are stored with the trial as the system attribute ``ferrotune:tag`` and reach every
worker's core: another storage object on the same backend (another process's view), a
reloaded study, and a pickled in-memory study."""

from __future__ import annotations

import pickle

import pytest

import ferrotune
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.storages._base import TAG_KEY, sampler_tags

from .conftest import StorageFactory


def _tag(study: ferrotune.Study, number: int, tag: list[float]) -> None:
    # What Study does after a Rust sampler attached `tag` to the trial it proposed.
    study._storage.set_trial_system_attr(study._study_id, number, TAG_KEY, tag)


def test_tags_reach_another_workers_core(make_storage: StorageFactory) -> None:
    study = ferrotune.create_study(storage=make_storage(), study_name="tags")
    running = study.ask()
    done = study.ask()
    done.suggest_float("x", 0.0, 1.0)
    study.tell(done, 0.5)
    _tag(study, running.number, [3.0, 0.0])
    _tag(study, done.number, [3.0, 1.0])
    other = ferrotune.load_study(study_name="tags", storage=make_storage())
    assert len(other.trials) == 2  # syncs
    assert other._core.tag(running.number) == [3.0, 0.0]
    assert other._core.tag(done.number) == [3.0, 1.0]
    # A tag written after the other worker's last look reaches it on its next one.
    late = study.ask()
    _tag(study, late.number, [4.0, 0.0])
    assert len(other.trials) == 3
    assert other._core.tag(late.number) == [4.0, 0.0]
    assert other.trials[late.number].system_attrs[TAG_KEY] == [4.0, 0.0]


def test_tags_survive_pickling_an_in_memory_study() -> None:
    study = ferrotune.create_study()
    t = study.ask()
    _tag(study, t.number, [1.0, 2.0, 5.0])
    study.tell(t, 1.0)
    again = pickle.loads(pickle.dumps(study))
    assert again._core.tag(t.number) == [1.0, 2.0, 5.0]


def test_attributes_that_are_not_tags_are_skipped() -> None:
    attrs = {
        0: {TAG_KEY: [1, 2.5]},
        1: {TAG_KEY: "gen 3"},
        2: {TAG_KEY: [1.0, "x"]},
        3: {TAG_KEY: []},
        4: {"other": [1.0]},
        5: {TAG_KEY: [1.0, float("inf")]},
    }
    assert sampler_tags(attrs, range(7)) == [(0, [1.0, 2.5])]


def test_a_tag_read_back_is_a_copy_and_other_values_stay_checked(
    make_storage: StorageFactory,
) -> None:
    storage = make_storage()
    study = ferrotune.create_study(storage=storage, study_name="copies")
    trial = study.ask()
    tag = [1.0, 2.0]
    _tag(study, trial.number, tag)
    tag.append(3.0)  # the caller's list is not the stored one
    attrs = storage.get_trial_system_attrs(study._study_id, trial.number)
    attrs[TAG_KEY].append(4.0)  # nor is the list read back
    _, systems = storage.get_trials_attrs(study._study_id, [trial.number])
    systems[0][TAG_KEY].append(5.0)
    assert study.trials[0].system_attrs[TAG_KEY] == [1.0, 2.0]
    assert study._core.tag(trial.number) == [1.0, 2.0]
    # Under the tag's key, a value that is not a tag is still checked and kept as it is.
    with pytest.raises(InvalidArgumentError):
        _tag(study, trial.number, [object()])  # type: ignore[list-item]
    storage.set_trial_system_attr(study._study_id, trial.number, TAG_KEY, {"mine": [1]})
    assert study.trials[0].system_attrs[TAG_KEY] == {"mine": [1]}
