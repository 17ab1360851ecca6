"""Behaviour of the Optuna names ferrotune adds for code that moves over: exceptions,
the renamed heartbeat API, RDBStorage's switches, the deprecated ``suggest_*``,
constraints, Optuna's storage reads and the samplers' hooks."""

from __future__ import annotations

import math
import pickle
import warnings
from pathlib import Path
from typing import Any

import pytest

import ferrotune
from ferrotune import exceptions as ex
from ferrotune.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    check_distribution_compatibility,
)
from ferrotune.samplers import CmaEsSampler, GPSampler, GridSampler, RandomSampler, TPESampler
from ferrotune.storages import (
    InMemoryStorage,
    RetryFailedTrialCallback,
    RetryHeartbeatStaleTrialCallback,
    fail_stale_trials,
)
from ferrotune.trial import FixedTrial, TrialState, create_trial

from ._support import SAMPLERS, in_distribution


# ------------------------------------------------------------------ exceptions
def test_every_ferrotune_error_is_an_optuna_error() -> None:
    assert ex.OptunaError is ex.FerrotuneError
    for name in ex.__all__:
        cls = getattr(ex, name)
        if (
            isinstance(cls, type)
            and issubclass(cls, Exception)
            and cls is not ex.ExperimentalWarning
        ):
            assert issubclass(cls, ex.OptunaError), name
    assert issubclass(ex.ExperimentalWarning, Warning)
    assert issubclass(ex.StorageLockedError, ex.StorageInternalError)
    assert issubclass(ex.StorageInternalError, RuntimeError)


def test_optuna_except_clauses_catch_ferrotune_errors() -> None:
    storage = InMemoryStorage()
    ferrotune.create_study(storage=storage, study_name="s")
    with pytest.raises(ex.OptunaError):
        ferrotune.create_study(storage=storage, study_name="s")
    study = ferrotune.create_study()
    trial = study.ask()
    study.tell(trial, 1.0)
    with pytest.raises(ex.UpdateFinishedTrialError):
        study.tell(trial, 1.0)
    with pytest.raises(RuntimeError):  # as Optuna's UpdateFinishedTrialError
        trial.set_user_attr("k", 1)


# ------------------------------------------------------------------ heartbeats
def test_old_callback_name_warns_and_is_the_new_class() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RetryHeartbeatStaleTrialCallback(max_retry=1)
    with pytest.warns(FutureWarning, match="RetryHeartbeatStaleTrialCallback"):
        old = RetryFailedTrialCallback(max_retry=1)
    assert isinstance(old, RetryHeartbeatStaleTrialCallback)


def test_rdb_callback_arguments(tmp_path: Path) -> None:
    from ferrotune.storages import RDBStorage

    url = f"sqlite:///{tmp_path / 'a.db'}"
    cb = RetryHeartbeatStaleTrialCallback()
    st = RDBStorage(url, heartbeat_interval=1, heartbeat_stale_trial_callback=cb)
    assert st.get_heartbeat_interval() == 1
    assert st.get_heartbeat_stale_trial_callback() is cb
    with pytest.warns(FutureWarning):
        assert st.get_failed_trial_callback() is cb
    back = pickle.loads(pickle.dumps(st))
    assert isinstance(back.get_heartbeat_stale_trial_callback(), RetryHeartbeatStaleTrialCallback)
    with pytest.warns(FutureWarning, match="heartbeat_stale_trial_callback"):
        old = RDBStorage(url, heartbeat_interval=1, failed_trial_callback=cb)
    assert old.get_heartbeat_stale_trial_callback() is cb
    with pytest.raises(ex.InvalidArgumentError, match="not both"):
        RDBStorage(url, heartbeat_stale_trial_callback=cb, failed_trial_callback=cb)
    assert RDBStorage(url).get_heartbeat_interval() is None


def test_fail_stale_trials_fails_and_retries(tmp_path: Path) -> None:
    import time

    from ferrotune.storages import RDBStorage

    url = f"sqlite:///{tmp_path / 'a.db'}"
    st = RDBStorage(url, heartbeat_interval=0.05, grace_period=0.1)
    study = ferrotune.create_study(storage=st, study_name="stale")
    trial = study.ask()
    trial.suggest_float("x", 0, 1)
    with st.heartbeat(st.get_study_id_from_name("stale"), trial.number):
        pass  # one beat, then silence: the worker "died"
    time.sleep(0.3)
    watcher = RDBStorage(
        url,
        heartbeat_interval=0.05,
        grace_period=0.1,
        heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(),
    )
    fail_stale_trials(ferrotune.load_study(study_name="stale", storage=watcher))
    trials = ferrotune.load_study(study_name="stale", storage=RDBStorage(url)).trials
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.WAITING]
    assert RetryHeartbeatStaleTrialCallback.retried_trial_number(trials[1]) == trial.number
    fail_stale_trials(ferrotune.create_study())  # nothing to do in memory


# ------------------------------------------------------------------ RDBStorage switches
def test_rdb_versions_and_switches(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from ferrotune.storages import RDBStorage

    url = f"sqlite:///{tmp_path / 'v.db'}"
    with pytest.raises(ex.IncompatibleStorageError, match="skip_table_creation"):
        RDBStorage(url, skip_table_creation=True)
    st = RDBStorage(url)
    head = st.get_head_version()
    assert st.get_current_version() == head and st.get_all_versions()[0] == head
    st.upgrade()
    st.remove_session()
    reopened = RDBStorage(url, skip_table_creation=True)
    ferrotune.create_study(storage=reopened, study_name="ok")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE ft_version SET version = version + 1"))
    engine.dispose()
    with pytest.raises(ex.IncompatibleStorageError, match="newer"):
        RDBStorage(url)
    newer = RDBStorage(url, skip_compatibility_check=True)
    assert newer.get_all_study_names() == ["ok"]
    assert int(newer.get_current_version()) == int(head) + 1


# ------------------------------------------------------------------ deprecated suggests
def _deprecated_suggests(trial: Any) -> tuple[float, float, float]:
    with pytest.warns(FutureWarning, match="suggest_float"):
        u = trial.suggest_uniform("u", 0.0, 1.0)
    with pytest.warns(FutureWarning, match="log=True"):
        lu = trial.suggest_loguniform("lu", 1e-3, 1.0)
    with pytest.warns(FutureWarning, match="step=q"):
        du = trial.suggest_discrete_uniform("du", 0.0, 1.0, 0.25)
    return u, lu, du


def test_deprecated_suggests_warn_and_sample_the_right_distribution() -> None:
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    trial = study.ask()
    u, lu, du = _deprecated_suggests(trial)
    assert 0 <= u <= 1 and 1e-3 <= lu <= 1 and du in (0.0, 0.25, 0.5, 0.75, 1.0)
    study.tell(trial, 0.0)
    dists = study.trials[0].distributions
    assert dists["u"] == FloatDistribution(0.0, 1.0)
    assert dists["lu"] == FloatDistribution(1e-3, 1.0, log=True)
    assert dists["du"] == FloatDistribution(0.0, 1.0, step=0.25)
    # A FrozenTrial and a FixedTrial answer with the recorded values.
    assert _deprecated_suggests(study.trials[0]) == (u, lu, du)
    assert _deprecated_suggests(FixedTrial({"u": 0.5, "lu": 0.1, "du": 0.75})) == (0.5, 0.1, 0.75)


# ------------------------------------------------------------------ constraints
def test_constraints_by_optuna_names() -> None:
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    trial = study.ask()
    trial.set_constraint(key="c", value=0.5)
    study.tell(trial, 1.0)
    assert study.trials[0].constraints == {"c": 0.5}
    made = create_trial(value=2.0, constraints={"a": -1.0, "b": 2})
    assert made.constraints == {"a": -1.0, "b": 2.0}
    study.add_trial(made)
    assert study.trials[1].constraints == {"a": -1.0, "b": 2.0}
    # The values reach the core, which constraint-aware samplers read.
    assert study.core.all_constraints()[1] == [-1.0, 2.0]
    with pytest.raises(ex.InvalidArgumentError, match="'a'"):
        create_trial(value=1.0, constraints={"a": math.nan})
    fixed = FixedTrial({})
    fixed.set_constraint(key="k", value=-1)
    assert fixed.constraints == {"k": -1.0}


# ------------------------------------------------------------------ storage reads
def _objective(trial: ferrotune.Trial) -> float:
    x = trial.suggest_float("x", -3, 3)
    c = trial.suggest_categorical("c", ["a", "b"])
    trial.set_user_attr("u", x)
    trial.report(x, 1)
    if x > 2:
        raise ferrotune.TrialPruned()
    return x * x + (c == "b")


@pytest.mark.parametrize("where", ["memory", "sqlite"])
def test_optuna_storage_reads(where: str, tmp_path: Path) -> None:
    storage: Any = InMemoryStorage() if where == "memory" else f"sqlite:///{tmp_path / 'r.db'}"
    study = ferrotune.create_study(storage=storage, sampler=RandomSampler(seed=1))
    study.optimize(_objective, n_trials=12)
    st, sid = study._storage, study._study_id
    assert st.get_all_trials(sid) == study.get_trials()
    done = st.get_all_trials(sid, states=(TrialState.COMPLETE,))
    assert [t.number for t in done] == [
        t.number for t in study.trials if t.state.name == "COMPLETE"
    ]
    assert st.get_n_trials(sid) == 12
    assert st.get_n_trials(sid, TrialState.COMPLETE) == len(done)
    both = (TrialState.COMPLETE, TrialState.PRUNED)
    assert st.get_n_trials(sid, both) == len(st.get_all_trials(sid, states=both))
    assert st.get_best_trial(sid) == study.best_trial
    st.remove_session()


def test_storage_reads_leave_the_studys_sampler_alone() -> None:
    def run(read: bool) -> list[float]:
        storage = InMemoryStorage()
        study = ferrotune.create_study(storage=storage, sampler=TPESampler(seed=3))
        for _ in range(15):
            if read:
                storage.get_all_trials(study._study_id)
                storage.get_best_trial(study._study_id) if study.best_trials else None
            study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
        return [t.params["x"] for t in study.trials]

    assert run(read=True) == run(read=False)


def test_best_trial_errors_as_optuna() -> None:
    storage = InMemoryStorage()
    study = ferrotune.create_study(storage=storage)
    with pytest.raises(ValueError):
        storage.get_best_trial(study._study_id)
    multi = ferrotune.create_study(storage=storage, directions=["minimize", "maximize"])
    with pytest.raises(RuntimeError):
        storage.get_best_trial(multi._study_id)


# ------------------------------------------------------------------ the rest
def test_check_distribution_compatibility() -> None:
    check_distribution_compatibility(FloatDistribution(0, 1), FloatDistribution(-5, 5, step=1))
    check_distribution_compatibility(IntDistribution(1, 3), IntDistribution(1, 30))
    abc = CategoricalDistribution(["a", "b"])
    check_distribution_compatibility(abc, CategoricalDistribution(["a", "b"]))
    for old, new in [
        (FloatDistribution(0, 1), IntDistribution(0, 1)),
        (FloatDistribution(1, 2), FloatDistribution(1, 2, log=True)),
        (abc, CategoricalDistribution(["a", "c"])),
    ]:
        with pytest.raises(ValueError):
            check_distribution_compatibility(old, new)


def test_tpe_optuna_arguments() -> None:
    with pytest.warns(FutureWarning, match="consider_prior"):
        TPESampler(consider_prior=True)
    params = TPESampler.hyperopt_parameters()
    assert params["n_startup_trials"] == 20
    gamma = params["gamma"]
    assert [gamma(n) for n in (1, 16, 100, 10**6)] == [1, 1, 3, 25]
    study = ferrotune.create_study(sampler=TPESampler(seed=0, **params))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=25)
    assert len(study.trials) == 25


def test_grid_is_exhausted_takes_the_study() -> None:
    sampler = GridSampler({"x": [0, 1]}, seed=0)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_int("x", 0, 1), n_trials=1)
    assert not sampler.is_exhausted(study)
    study.optimize(lambda t: t.suggest_int("x", 0, 1), n_trials=1)
    assert sampler.is_exhausted(study) and sampler.is_exhausted()


def test_version_module() -> None:
    import ferrotune.version

    assert ferrotune.version.__version__ == ferrotune.__version__


# ------------------------------------------------------------------ sampler hooks
_SPACE = {
    "x": FloatDistribution(-2, 2),
    "n": IntDistribution(1, 9, step=2),
    "c": CategoricalDistribution(["a", "b", "c"]),
}


def _warm(sampler: Any, n: int = 8) -> ferrotune.Study:
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(
        lambda t: (
            t.suggest_float("x", -2, 2) ** 2
            + t.suggest_int("n", 1, 9, step=2)
            + (t.suggest_categorical("c", ["a", "b", "c"]) == "a")
        ),
        n_trials=n,
    )
    return study


@pytest.mark.parametrize(
    "sampler", [TPESampler(seed=0, n_startup_trials=3), GPSampler(seed=0, n_startup_trials=3)]
)
def test_model_samplers_hooks_return_their_values(sampler: Any) -> None:
    """Called as Optuna calls them, a model sampler's hooks return the joint values, and
    the trial then takes exactly those values."""
    study = _warm(sampler)
    trial = study.ask()
    frozen = study.get_trial(trial.number)
    space = sampler.infer_relative_search_space(study, frozen)
    assert set(space) == set(_SPACE)
    values = sampler.sample_relative(study, frozen, space)
    assert set(values) == set(_SPACE)
    assert all(in_distribution(_SPACE[k], v) for k, v in values.items())
    assert trial.suggest_float("x", -2, 2) == values["x"]
    assert trial.suggest_int("n", 1, 9, step=2) == values["n"]
    assert trial.suggest_categorical("c", ["a", "b", "c"]) == values["c"]
    extra = FloatDistribution(0, 1, log=False)
    v = sampler.sample_independent(study, frozen, "y", extra)
    assert in_distribution(extra, v)
    with pytest.raises(ex.InvalidArgumentError, match="samples only for a study whose sampler"):
        sampler.sample_relative(ferrotune.create_study(), frozen, space)


@pytest.mark.parametrize("name", ["random", "qmc-sobol", "tpe", "cmaes", "de", "ga", "nsga2"])
def test_builtin_sample_independent_gives_values_in_the_distribution(name: str) -> None:
    sampler = SAMPLERS[name](0)
    study = _warm(sampler, n=5)
    frozen = study.get_trial(study.ask().number)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # QMC warns about independent sampling
        for pname, dist in _SPACE.items():
            for _ in range(5):
                assert in_distribution(dist, sampler.sample_independent(study, frozen, pname, dist))


def test_trials_dataframe_multi_index_as_optuna() -> None:
    pytest.importorskip("pandas")

    def objective(trial: ferrotune.Trial) -> float:
        trial.set_user_attr("k", 1)
        return trial.suggest_float("x", 0, 1)

    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    study.optimize(objective, n_trials=3)
    flat, multi = study.trials_dataframe(), study.trials_dataframe(multi_index=True)
    assert ("params", "x") in multi.columns and ("number", "") in multi.columns
    assert ["_".join(str(p) for p in c if p != "") for c in multi.columns] == list(flat.columns)
    assert list(multi["params", "x"]) == list(flat["params_x"])
    only = study.trials_dataframe(attrs=("number", "params"), multi_index=True)
    assert list(only.columns) == [("number", ""), ("params", "x")]


def _objective_3d(t: ferrotune.Trial) -> float:
    return (
        t.suggest_float("x", -2, 2) ** 2
        + t.suggest_int("n", 1, 9, step=2)
        + (t.suggest_categorical("c", ["a", "b", "c"]) == "a")
    )


@pytest.mark.parametrize(
    "base",
    [
        lambda: TPESampler(seed=0, n_startup_trials=3),
        lambda: GPSampler(seed=0, n_startup_trials=3),
        lambda: CmaEsSampler(seed=0, popsize=4),
    ],
)
def test_a_subclass_hook_sees_the_values_and_changes_nothing(base: Any) -> None:
    """A subclass that overrides sample_relative is called by the study, as Optuna's
    study calls it; wrapping super() it sees the values the trial then takes, and the
    study runs exactly as with the plain sampler."""
    plain = base()
    seen: list[tuple[int, dict[str, Any]]] = []

    class Watching(type(plain)):  # type: ignore[misc]
        def sample_relative(self, study: Any, trial: Any, search_space: Any) -> Any:
            values = super().sample_relative(study, trial, search_space)
            seen.append((trial.number, values))
            return values

    watching = Watching.__new__(Watching)
    watching.__setstate__(plain.__getstate__())  # the same configuration and seed
    assert plain._rust_relative and not watching._rust_relative
    runs = []
    for sampler in (plain, watching):
        study = ferrotune.create_study(sampler=sampler)
        study.optimize(_objective_3d, n_trials=12)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]
    modelled = [(n, v) for n, v in seen if v]
    assert modelled, "the model chose joint values after the start-up trials"
    for number, values in modelled:
        assert {k: runs[1][number][k] for k in values} == values


def test_optunas_own_distributions_and_directions_from_a_half_moved_script() -> None:
    # `import ferrotune as optuna` with a leftover `from optuna.distributions import ...`:
    # ask() said "expected a distribution, got FloatDistribution" of the class it was given.
    real = pytest.importorskip("optuna")
    study = ferrotune.create_study(direction=real.study.StudyDirection.MAXIMIZE)
    assert study.direction == ferrotune.study.StudyDirection.MAXIMIZE
    trial = study.ask({"x": real.distributions.FloatDistribution(0, 1, log=False)})
    assert isinstance(trial.distributions["x"], ferrotune.distributions.FloatDistribution)
    assert 0 <= trial.params["x"] <= 1
    frozen = ferrotune.create_trial(
        params={"n": 3},
        distributions={"n": real.distributions.IntDistribution(1, 5)},
        value=1.0,
    )
    assert frozen.distributions == {"n": ferrotune.distributions.IntDistribution(1, 5)}
    with pytest.raises(ex.InvalidArgumentError, match=r"builtins\.int"):
        study.ask({"x": 3})
