"""Studies moved between ferrotune and Optuna with import_study and export_study keep every
field of every trial: numbers, states, values, parameters and distributions, intermediate
values, user and system attributes, constraints and times."""

from __future__ import annotations

import datetime
import os
import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest

import ferrotune
from ferrotune._optuna_io import VECTOR_KEY, _optuna_storage_of, export_study, import_study
from ferrotune.samplers import RandomSampler
from ferrotune.storages import InMemoryStorage

optuna = pytest.importorskip("optuna")
optuna.logging.set_verbosity(optuna.logging.WARNING)


def _dist(d: Any) -> tuple[Any, ...]:
    """A distribution of either library as comparable data."""
    if hasattr(d, "choices"):
        return ("categorical", tuple(d.choices))
    kind = "int" if type(d).__name__.startswith("Int") else "float"
    return (kind, d.low, d.high, d.log, d.step)


def _when(t: datetime.datetime | None) -> float | None:
    return None if t is None else round(t.timestamp(), 6)


def _fields(t: Any) -> dict[str, Any]:
    """Every field of a FrozenTrial of either library; constraint entries of the system
    attributes are compared through ``constraints`` (each library names them its way)."""
    system = {
        k: v
        for k, v in t.system_attrs.items()
        if k != "constraints" and not k.startswith("constraints:") and k != VECTOR_KEY
    }
    return {
        "number": t.number,
        "state": int(t.state),
        "values": t.values,
        "params": t.params,
        "distributions": {k: _dist(d) for k, d in t.distributions.items()},
        "intermediate_values": t.intermediate_values,
        "user_attrs": t.user_attrs,
        "system_attrs": system,
        "constraints": t.constraints,
        "datetime_start": _when(t.datetime_start),
        "datetime_complete": _when(t.datetime_complete),
    }


def _system(study: Any) -> dict[str, Any]:
    if isinstance(study, ferrotune.Study):
        return study.system_attrs
    storage, study_id = _optuna_storage_of(study)  # Optuna 5 keeps them in its storage
    return dict(storage.get_study_system_attrs(study_id))


def _same_trials(a: Any, b: Any) -> None:
    ta, tb = a.get_trials(deepcopy=False), b.get_trials(deepcopy=False)
    assert len(ta) == len(tb) > 0
    for x, y in zip(ta, tb, strict=True):
        assert _fields(x) == _fields(y)
    assert [int(d) for d in a.directions] == [int(d) for d in b.directions]
    assert a.user_attrs == b.user_attrs
    assert _system(a) == _system(b)


def _ferrotune_study() -> ferrotune.Study:
    """A study with every kind of trial and field."""
    study = ferrotune.create_study(study_name="moved", sampler=RandomSampler(seed=0))
    study.set_user_attr("owner", {"team": "a", "n": [1, 2]})
    study.set_metric_names(["loss"])

    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", -5, 5)
        lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
        n = trial.suggest_int("n", 2, 64, log=True)
        s = trial.suggest_float("s", 0, 1, step=0.25)
        c = trial.suggest_categorical("c", [None, True, 3, 1.5, "s"])
        trial.set_user_attr("seen", [x, c])
        trial.set_constraint("budget", x - 1)
        for step in range(3):
            trial.report(x * x / (step + 1), step)
        if x > 3:
            raise ferrotune.TrialPruned()
        if x < -4:
            raise RuntimeError("boom")
        return x * x + lr + n + s

    study.optimize(objective, n_trials=20, catch=(RuntimeError,))
    running = study.ask()
    running.suggest_float("x", -5, 5)
    study.set_trial_system_attr(running.number, "note", "left running")
    study.enqueue_trial({"x": 1.0, "c": "s"}, user_attrs={"why": "queued"})
    return study


def test_ferrotune_to_optuna_sqlite_and_back(tmp_path: Path) -> None:
    study = _ferrotune_study()
    states = {t.state.name for t in study.trials}
    assert states == {"COMPLETE", "PRUNED", "FAIL", "WAITING", "RUNNING"}
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    exported = export_study(study, url)
    assert exported.study_name == "moved"
    reread = optuna.load_study(study_name="moved", storage=url)
    _same_trials(study, reread)
    assert reread.metric_names == ["loss"]
    # ... and back, in memory and into a ferrotune database.
    _same_trials(study, import_study(url))
    into_db = import_study(url, study_name="moved", storage=f"sqlite:///{tmp_path / 'ft.db'}")
    _same_trials(study, into_db)
    loaded = ferrotune.load_study(study_name="moved", storage=f"sqlite:///{tmp_path / 'ft.db'}")
    _same_trials(study, loaded)


def _optuna_study(url: str) -> Any:
    study = optuna.create_study(storage=url, study_name="from-optuna", direction="maximize")
    study.set_user_attr("dataset", "iris")

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", 0, 1)
        k = trial.suggest_int("k", 1, 9, step=2)
        o = trial.suggest_categorical("o", ["adam", "sgd"])
        trial.set_constraint("mem", k - 5)
        trial.report(x, 0)
        if x > 0.8:
            raise optuna.TrialPruned()
        return x * k + (o == "adam")

    study.optimize(objective, n_trials=15)
    study.ask()  # left RUNNING
    study.enqueue_trial({"x": 0.5, "k": 3, "o": "sgd"})  # WAITING
    return study


def test_optuna_to_ferrotune_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    source = _optuna_study(url)
    mine = import_study(url)
    assert mine.study_name == "from-optuna"
    _same_trials(source, mine)
    # The imported study goes on with ferrotune's sampler, the enqueued trial first.
    waiting = next(t.number for t in source.trials if t.state.name == "WAITING")
    mine.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    assert len(mine.trials) == len(source.trials) + 2  # the waiting one ran
    assert mine.trials[waiting].state.name == "COMPLETE"
    assert mine.trials[waiting].params == {"x": 0.5}
    back = export_study(import_study(source), optuna.storages.InMemoryStorage(), "again")
    _same_trials(source, back)


def test_constraints_from_optunas_constraints_func(tmp_path: Path) -> None:
    """Optuna's constraints_func stores a list; ferrotune names its values "0", "1", ..."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # deprecated in Optuna 5, not gone
        sampler = optuna.samplers.TPESampler(seed=0, constraints_func=lambda t: [1.0, -2.0])
        source = optuna.create_study(sampler=sampler)
        source.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    mine = import_study(source)
    assert [t.constraints for t in mine.trials] == [{"0": 1.0, "1": -2.0}] * 3
    assert mine.core.all_constraints()[0] == [1.0, -2.0]


def test_several_objectives_keep_intermediate_vectors() -> None:
    study = ferrotune.create_study(directions=["minimize", "maximize"], study_name="mo")
    trial = study.ask()
    trial.report([1.0, 2.0], 0)
    trial.report([0.5, 3.0], 1)
    study.tell(trial, [0.5, 3.0])
    out = export_study(study, optuna.storages.InMemoryStorage())
    assert out.trials[0].intermediate_values == {}
    back = import_study(out)
    assert back.trials[0].intermediate_values == {0: [1.0, 2.0], 1: [0.5, 3.0]}
    _same_trials(study, back)


def test_import_refuses_a_taken_name_and_leaves_nothing() -> None:
    storage = InMemoryStorage()
    ferrotune.create_study(storage=storage, study_name="taken")
    source = optuna.create_study(study_name="taken")
    source.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    with pytest.raises(ferrotune.exceptions.DuplicatedStudyError):
        import_study(source, storage=storage)
    assert storage.get_all_study_names() == ["taken"]
    with pytest.raises(ferrotune.exceptions.InvalidArgumentError, match=r"optuna\.Study"):
        import_study(42)


def test_import_into_postgresql(tmp_path: Path) -> None:
    url = os.environ.get("FERROTUNE_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("FERROTUNE_TEST_POSTGRES_URL is not set")
    source = _optuna_study(f"sqlite:///{tmp_path / 'optuna.db'}")
    name = f"parity-import-{uuid.uuid4().hex}"  # the server is shared: a name of its own
    try:
        _same_trials(source, import_study(source, study_name=name, storage=url))
        _same_trials(source, ferrotune.load_study(study_name=name, storage=url))
    finally:
        ferrotune.delete_study(study_name=name, storage=url)


def test_a_missing_optuna_study_is_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    optuna.create_study(storage=url, study_name="there")
    with pytest.raises(
        ferrotune.exceptions.InvalidArgumentError, match="no study named 'not-there'"
    ):
        import_study(url, study_name="not-there")


def _halving_objective(lib: Any) -> Any:
    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        for step in range(1, 9):
            trial.report(x + 1.0 / step, step)
            if trial.should_prune():
                raise lib.TrialPruned()
        return x

    return objective


def test_rung_records_go_on_in_optuna_after_export(tmp_path: Path) -> None:
    """Optuna's successive halving failed on ferrotune's records (dict < dict)."""
    study = ferrotune.create_study(
        study_name="halving",
        sampler=RandomSampler(seed=0),
        pruner=ferrotune.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2),
    )
    study.optimize(_halving_objective(ferrotune), n_trials=12)
    pruned = sum(t.state == ferrotune.TrialState.PRUNED for t in study.trials)
    assert pruned > 0
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    export_study(study, url)
    loaded = optuna.load_study(
        study_name="halving",
        storage=url,
        sampler=optuna.samplers.RandomSampler(seed=1),
        pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2),
    )
    rung0 = loaded.trials[0].system_attrs["completed_rung_0"]
    assert rung0 == study.trials[0].intermediate_values[1]
    loaded.optimize(_halving_objective(optuna), n_trials=4)
    assert len(loaded.trials) == 16


@pytest.mark.parametrize("to_sqlite", [False, True])
def test_imported_optuna_rung_records_rank_new_trials(tmp_path: Path, to_sqlite: bool) -> None:
    """A ferrotune pruner ignored Optuna's records: a bad trial went on after import."""
    source = optuna.create_study(
        pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)
    )
    for i in range(8):
        t = source.ask()
        for step in (1, 2, 4):
            t.report(0.1 * i, step)
            t.should_prune()
        source.tell(t, 0.1 * i)
    storage = f"sqlite:///{tmp_path / 'ft.db'}" if to_sqlite else None
    study = import_study(source, storage=storage)
    study.pruner = ferrotune.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)
    record = study.trials[3].system_attrs["completed_rung_0"]
    assert record["values"] == [pytest.approx(0.3)] and record["promoted"] is True

    def bad_then_good(target: Any, value: float) -> bool:
        trial = target.ask()
        trial.report(value, 1)
        return bool(trial.should_prune())

    assert bad_then_good(source, 5.0) and bad_then_good(study, 5.0)
    assert not bad_then_good(source, -1.0) and not bad_then_good(study, -1.0)
