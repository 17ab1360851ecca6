"""ferrotune.integration.optuna inside optuna.Study: the adapters propose what the native
samplers propose, the mirror follows Optuna's trials incrementally, tags and constraints go
through Optuna's system attributes, pruners decide as the native ones, seeds reproduce
across processes."""

from __future__ import annotations

import inspect
import json
import math
import os
import pickle
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

optuna = pytest.importorskip("optuna")

import ferrotune  # noqa: E402
from ferrotune import samplers as native  # noqa: E402
from ferrotune.exceptions import InvalidArgumentError  # noqa: E402
from ferrotune.integration import optuna as fo  # noqa: E402
from ferrotune.integration.optuna._mirror import Mirror  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
# Where the ferrotune under test was imported from (the installed wheel in CI, python/ in
# an editable install): child processes must import the same one.
PACKAGE_DIR = Path(ferrotune.__file__).resolve().parent.parent

# name -> (arguments, trials): short start-ups and populations so the models run.
SAMPLERS: dict[str, tuple[dict[str, Any], int]] = {
    "RandomSampler": ({}, 30),
    "QMCSampler": ({}, 30),
    "TPESampler": ({"n_startup_trials": 5}, 30),
    "GPSampler": ({"n_startup_trials": 3}, 10),
    "CmaEsSampler": ({"popsize": 4}, 30),
    "NSGAIISampler": ({"population_size": 6}, 30),
    "NSGAIIISampler": ({"population_size": 6}, 30),
    "DESampler": ({"population_size": 6}, 30),
    "PSOSampler": ({"swarm_size": 6}, 30),
    "TrustRegionSampler": ({}, 30),
    "GASampler": ({"population_size": 6}, 30),
    "BOHBSampler": ({}, 30),
    "DEHBSampler": ({}, 30),
}
# Samplers of finite spaces: name -> (adapter, native) from a seed; run with on_grid
# until they stop the study.
GRID = {"x": [-1.5, 0.0, 2.5], "n": [0, 3, 7], "c": ["a", "b"], "k": [0, 1]}
FINITE: dict[str, Callable[[int], tuple[Any, Any]]] = {
    "GridSampler": lambda seed: (fo.GridSampler(GRID, seed), native.GridSampler(GRID, seed)),
    "BruteForceSampler": lambda seed: (
        fo.BruteForceSampler(seed),
        native.BruteForceSampler(seed),
    ),
}
# PartialFixedSampler over a base: name -> (adapter, native) from a seed; run with mixed.
PARTIAL: dict[str, Callable[[int], tuple[Any, Any]]] = {
    f"PartialFixedSampler({base})": (
        lambda seed, base=base: (
            fo.PartialFixedSampler({"c": "z", "n": 4}, make(base, seed)),
            native.PartialFixedSampler(
                {"c": "z", "n": 4}, getattr(native, base)(seed=seed, **SAMPLERS[base][0])
            ),
        )
    )
    for base in ("RandomSampler", "TPESampler", "CmaEsSampler")
}
POPULATION = ["CmaEsSampler", "NSGAIISampler", "DESampler", "PSOSampler", "GASampler"]


@pytest.fixture(autouse=True)
def quiet() -> Any:
    """No log line per trial, and the verbosities as they were for the other tests."""
    levels = optuna.logging.get_verbosity(), ferrotune.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    ferrotune.logging.set_verbosity(ferrotune.logging.WARNING)
    yield
    optuna.logging.set_verbosity(levels[0])
    ferrotune.logging.set_verbosity(levels[1])


def mixed(trial: Any) -> float:
    x = trial.suggest_float("x", -5, 5)
    n = trial.suggest_int("n", 0, 10)
    c = trial.suggest_categorical("c", ["a", "b", "z"])
    lr = trial.suggest_float("lr", 1e-3, 1.0, log=True)
    return x * x + n + (c == "a") + lr


def conditional(trial: Any) -> float:
    # "y" is in every trial of the start-up, so it enters the intersection search space
    # and is sampled jointly; later trials use it only when x < 0 (the optimum is at 0.1).
    x = trial.suggest_float("x", -1, 1)
    if trial.number < 6 or x < 0:
        return (x - 0.1) ** 2 + trial.suggest_float("y", 0, 1)
    return (x - 0.1) ** 2 + trial.suggest_int("k", 0, 3)


def on_grid(trial: Any) -> float:
    # The grid's values, and a conditional branch for the brute-force sampler.
    x = trial.suggest_float("x", -1.5, 2.5, step=0.5)
    n = trial.suggest_int("n", 0, 7)
    c = trial.suggest_categorical("c", ["a", "b"])
    if c == "b" and n < 3:
        return x * x + n + trial.suggest_int("k", 0, 1)
    return x * x + n + (c == "a")


def make(name: str, seed: int = 3) -> Any:
    kwargs, _ = SAMPLERS[name]
    return getattr(fo, name)(seed=seed, **kwargs)


def mirror_of(sampler: Any, study: Any) -> Mirror:
    with sampler._mirrors.lock:
        return sampler._mirrors.get(study)  # type: ignore[no-any-return]


def mirrored(m: Mirror, number: int) -> dict[str, float]:
    rec = m.core.record(number)
    return {m.core.param_dist(key)[0]: v for key, v in rec.params}


def test_import_ferrotune_does_not_import_optuna() -> None:
    code = "import sys, ferrotune, ferrotune.integration; print('optuna' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(PACKAGE_DIR)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_adapter_proposes_what_the_native_sampler_proposes(name: str) -> None:
    """The same seed gives the same trials inside optuna.Study as in a ferrotune study: the
    adapter drives the Rust sampler as a ferrotune study does."""
    kwargs, n_trials = SAMPLERS[name]
    ours = optuna.create_study(sampler=make(name))
    ours.optimize(mixed, n_trials=n_trials)
    theirs = ferrotune.create_study(sampler=getattr(native, name)(seed=3, **kwargs))
    theirs.optimize(mixed, n_trials=n_trials)
    assert [t.params for t in ours.trials] == [t.params for t in theirs.trials]
    if name in POPULATION:
        tags = [t.system_attrs.get("ferrotune:tag") for t in ours.trials]
        assert tags == [t.system_attrs.get("ferrotune:tag") for t in theirs.trials]
        assert sum(tag is not None for tag in tags) >= n_trials - 1


@pytest.mark.parametrize("name", list(FINITE))
def test_finite_space_adapter_proposes_what_the_native_sampler_proposes(name: str) -> None:
    """Same seed, same points in the same order, and both studies stop by themselves."""
    adapter, sampler = FINITE[name](5)
    ours = optuna.create_study(sampler=adapter)
    ours.optimize(on_grid, n_trials=400)
    theirs = ferrotune.create_study(sampler=sampler)
    theirs.optimize(on_grid, n_trials=400)
    assert len(ours.trials) == len(theirs.trials) < 400
    assert [t.params for t in ours.trials] == [t.params for t in theirs.trials]


@pytest.mark.parametrize("name", list(PARTIAL))
def test_partial_fixed_adapter_proposes_what_the_native_sampler_proposes(name: str) -> None:
    adapter, sampler = PARTIAL[name](5)
    ours = optuna.create_study(sampler=adapter)
    ours.optimize(mixed, n_trials=30)
    theirs = ferrotune.create_study(sampler=sampler)
    theirs.optimize(mixed, n_trials=30)
    assert [t.params for t in ours.trials] == [t.params for t in theirs.trials]
    assert {(t.params["c"], t.params["n"]) for t in ours.trials} == {("z", 4)}


@pytest.mark.parametrize("name", [*FINITE, "PartialFixedSampler"])
def test_finite_space_constructor_takes_the_native_arguments(name: str) -> None:
    adapter, cls = getattr(fo, name), getattr(native, name)
    assert inspect.signature(adapter) == inspect.signature(cls)
    if name in FINITE:
        assert isinstance(FINITE[name](1)[0], optuna.samplers.BaseSampler)


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_constructor_takes_the_native_arguments(name: str) -> None:
    adapter, cls = getattr(fo, name), getattr(native, name)
    assert inspect.signature(adapter) == inspect.signature(cls)
    assert isinstance(adapter(seed=1), optuna.samplers.BaseSampler)
    with pytest.raises(InvalidArgumentError, match="seed"):
        adapter(seed="one")


@pytest.mark.parametrize("name", ["TPESampler", "CmaEsSampler", "DESampler", "GPSampler"])
def test_mirror_holds_exactly_optunas_trials_in_a_conditional_space(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A joint value the trial did not use is not kept: the mirror is rebuilt from Optuna's
    records when it finds one, and then holds exactly Optuna's parameters and states."""
    resets: list[int] = []
    original = Mirror._reset

    def counting(self: Mirror) -> None:
        resets.append(1)
        original(self)

    monkeypatch.setattr(Mirror, "_reset", counting)
    sampler = make(name)
    study = optuna.create_study(sampler=sampler)
    study.optimize(conditional, n_trials=25 if name != "GPSampler" else 12)
    m = mirror_of(sampler, study)
    assert len(resets) >= 2, "the conditional objective must exercise the rebuild"
    assert m.core.n_trials() == len(study.trials)
    for t in study.trials:
        assert int(m.core.state(t.number)) == t.state.value
        expected = {k: t.distributions[k].to_internal_repr(v) for k, v in t.params.items()}
        assert mirrored(m, t.number) == expected
        assert list(m.core.record(t.number).values) == list(t.values or [])


def test_failing_trials_cost_no_rebuild(monkeypatch: pytest.MonkeyPatch) -> None:
    resets: list[int] = []
    original = Mirror._reset

    def counting(self: Mirror) -> None:
        resets.append(1)
        original(self)

    monkeypatch.setattr(Mirror, "_reset", counting)

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", -1, 1)
        if trial.number % 2 and trial.number > 4:
            raise RuntimeError("the training diverged")  # "y", sampled jointly, unused
        return x + trial.suggest_float("y", 0, 1)

    sampler = fo.TPESampler(n_startup_trials=3, seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=20, catch=(RuntimeError,))
    assert sum(t.state == optuna.trial.TrialState.FAIL for t in study.trials) == 8
    assert len(resets) == 1  # the mirror's creation only


def test_sync_takes_in_only_new_or_changed_trials(monkeypatch: pytest.MonkeyPatch) -> None:
    applied: list[int] = []
    original = Mirror._apply

    def counting(self: Mirror, batch: list[Any]) -> bool:
        applied.extend(t.number for t in batch)
        return original(self, batch)

    monkeypatch.setattr(Mirror, "_apply", counting)
    study = optuna.create_study(sampler=fo.TPESampler(n_startup_trials=3, seed=0))
    study.optimize(mixed, n_trials=60)
    # Each trial is applied when it starts, when its parameters changed and once finished.
    assert len(applied) <= 3 * 60
    assert max(applied.count(n) for n in range(60)) <= 3


def test_running_trials_are_mirrored_for_constant_liar() -> None:
    sampler = fo.TPESampler(n_startup_trials=2, seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(mixed, n_trials=4)
    running = [study.ask() for _ in range(3)]
    xs = [t.suggest_float("x", -5, 5) for t in running]
    study.ask()  # its before_trial syncs the running trials
    m = sampler._mirrors.known(study)
    assert m is not None
    for t, x in zip(running, xs, strict=True):
        assert m.core.state(t.number) == ferrotune._core.TrialState.RUNNING
        assert mirrored(m, t.number)["x"] == x


def _storages(tmp_path: Path) -> list[Any]:
    """Optuna's SQLite and journal-file storages, and PostgreSQL when a server is given."""
    backend = optuna.storages.journal.JournalFileBackend(str(tmp_path / "journal.log"))
    storages: list[Any] = [
        f"sqlite:///{tmp_path / 'workers.db'}",
        optuna.storages.JournalStorage(backend),
    ]
    if os.environ.get("FERROTUNE_TEST_POSTGRES_URL"):
        storages.append(_own_schema(os.environ["FERROTUNE_TEST_POSTGRES_URL"]))
    return storages


def _own_schema(url: str) -> str:
    """``url`` searching a schema of its own (created here): Optuna's tables there never
    meet ferrotune's in the test database, whose storage tests refuse a database that
    holds an Optuna storage (and ``delete_study`` leaves Optuna's tables behind)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS optuna_plugin_tests"))
    engine.dispose()
    return url + ("&" if "?" in url else "?") + "options=-csearch_path%3Doptuna_plugin_tests"


@pytest.mark.parametrize("name", ["CmaEsSampler", "DESampler", "NSGAIISampler"])
def test_workers_on_one_storage_share_generations(name: str, tmp_path: Path) -> None:
    """Two Optuna study objects on one storage, each with its own adapter, take turns: each
    reads the other's tags from the ``ferrotune:tag`` system attribute, so together they
    breed one population whose generations advance."""
    for url in _storages(tmp_path):
        study_name = f"h13adapt-{uuid.uuid4().hex[:12]}"
        a = optuna.create_study(study_name=study_name, storage=url, sampler=make(name, seed=1))
        b = optuna.load_study(study_name=study_name, storage=url, sampler=make(name, seed=2))
        for i in range(24):
            study = (a, b)[i % 2]
            trial = study.ask()
            study.tell(trial, mixed(trial))
        trials = a.trials
        tags = [t.system_attrs.get("ferrotune:tag") for t in trials]
        assert all(tag is not None for tag in tags[1:])
        for study in (a, b):
            m = mirror_of(study.sampler, study)
            assert [m.core.tag(t.number) or None for t in trials] == tags
        # The generation (third number of a tag for CMA-ES, second for the others) goes
        # past 1: the workers close generations made of each other's trials.
        col = 2 if name == "CmaEsSampler" else 1
        assert max(tag[col] for tag in tags if tag) >= 2
        optuna.delete_study(study_name=study_name, storage=url)


def test_constraints_func_is_stored_as_optunas_constraints() -> None:
    def constraints(trial: Any) -> list[float]:
        return [trial.params["x"] - 1.0, -trial.params["n"]]

    sampler = fo.TPESampler(n_startup_trials=5, seed=0, constraints_func=constraints)
    study = optuna.create_study(sampler=sampler)
    study.optimize(mixed, n_trials=20)
    m = mirror_of(sampler, study)
    core_constraints = m.core.all_constraints()
    for t in study.trials:
        assert list(t.system_attrs["constraints"]) == constraints(t)
        assert core_constraints[t.number] == constraints(t)
    # Optuna reads the attribute: the best trial is a feasible one.
    assert study.best_trial.params["x"] <= 1.0


def test_constraints_func_returning_nan_is_a_clear_error() -> None:
    sampler = fo.NSGAIISampler(seed=0, constraints_func=lambda t: [float("nan")])
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    with pytest.raises(ValueError, match=r"constraints_func.*NaN"):
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=1)


def test_multi_objective_with_constraints() -> None:
    sampler = fo.NSGAIISampler(
        population_size=8, seed=0, constraints_func=lambda t: [t.params["x"] - 0.8]
    )
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    study.optimize(lambda t: (t.suggest_float("x", 0, 1), (1 - t.params["x"]) ** 2), n_trials=40)
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    front = study.best_trials
    assert front and all(t.params["x"] <= 0.8 for t in front)


def test_n_jobs_threads_lose_no_trial() -> None:
    sampler = fo.TPESampler(n_startup_trials=4, seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(mixed, n_trials=40, n_jobs=2)
    assert len(study.trials) == 40
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    m = mirror_of(sampler, study)
    assert [int(m.core.state(n)) for n in range(40)] == [1] * 40


@pytest.mark.parametrize("name", ["RandomSampler", "TPESampler", "CmaEsSampler", "QMCSampler"])
def test_pickled_adapter_continues_as_the_original(name: str) -> None:
    """A pickled adapter, given a study with the same trials (attributes included),
    proposes what the original proposes in its own study."""
    sampler = make(name)
    a = optuna.create_study(sampler=sampler)
    a.optimize(mixed, n_trials=12)
    b = optuna.create_study(sampler=pickle.loads(pickle.dumps(sampler)))
    b.add_trials(a.trials)
    # QMC keeps its position in its sequence in a study attribute.
    for key, value in a._storage.get_study_system_attrs(a._study_id).items():
        b._storage.set_study_system_attr(b._study_id, key, value)
    a.optimize(mixed, n_trials=8)
    b.optimize(mixed, n_trials=8)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]


def test_reseed_rng_changes_the_stream() -> None:
    def draws(sampler: Any) -> list[float]:
        study = optuna.create_study(sampler=sampler)
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=5)
        return [t.params["x"] for t in study.trials]

    reseeded = fo.RandomSampler(seed=0)
    reseeded.reseed_rng()
    assert draws(fo.RandomSampler(seed=0)) == draws(fo.RandomSampler(seed=0))
    assert draws(reseeded) != draws(fo.RandomSampler(seed=0))


def _multi_fidelity(pruned: type[Exception]) -> Callable[[Any], float]:
    def objective(trial: Any) -> float:
        x, k = trial.suggest_float("x", -2, 2), trial.suggest_int("k", 0, 5)
        for step in range(1, 28):
            value = (x - 0.3) ** 2 + 0.1 * k + 1.0 / step
            trial.report(value, step)
            if trial.should_prune():
                raise pruned()
        return value

    return objective


@pytest.mark.parametrize("name", ["BOHBSampler", "DEHBSampler"])
def test_multi_fidelity_sampler_with_hyperband_as_native(name: str) -> None:
    """BOHB and DEHB with this module's HyperbandPruner read the intermediate values and
    brackets through the mirror: the same trials as in a ferrotune study."""
    kwargs = {"max_resource": 27} if name == "DEHBSampler" else {}
    ours = optuna.create_study(
        study_name="mf",
        sampler=getattr(fo, name)(seed=1, **kwargs),
        pruner=fo.HyperbandPruner(max_resource=27),
    )
    ours.optimize(_multi_fidelity(optuna.TrialPruned), n_trials=50)
    theirs = ferrotune.create_study(
        study_name="mf",
        sampler=getattr(native, name)(seed=1, **kwargs),
        pruner=ferrotune.pruners.HyperbandPruner(max_resource=27),
    )
    theirs.optimize(_multi_fidelity(ferrotune.TrialPruned), n_trials=50)

    def outcome(study: Any) -> list[Any]:
        return [(t.params, t.state.name, len(t.intermediate_values)) for t in study.trials]

    assert outcome(ours) == outcome(theirs)
    assert any(state == "PRUNED" for _, state, _ in outcome(ours))


def test_enqueued_values_are_kept_and_mirrored() -> None:
    sampler = fo.TPESampler(n_startup_trials=3, seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(mixed, n_trials=6)
    study.enqueue_trial({"x": 4.5, "c": "z"})
    study.optimize(mixed, n_trials=3)
    enqueued = study.trials[6]
    assert enqueued.params["x"] == 4.5 and enqueued.params["c"] == "z"
    m = mirror_of(sampler, study)
    for t in study.trials:
        expected = {k: t.distributions[k].to_internal_repr(v) for k, v in t.params.items()}
        assert mirrored(m, t.number) == expected


# ------------------------------------------------------------------------- pruners
def _curve(number: int, step: int) -> float:
    # Improves for four steps, then gets worse (PatientPruner's case).
    shape = 1.0 / (step + 1) if step <= 4 else 0.2 + 0.05 * (step - 4)
    return math.sin(number * 1.7) + 0.01 * ((number * 7919) % 13) + shape


def _pruned_objective(pruned: type[Exception]) -> Callable[[Any], float]:
    def objective(trial: Any) -> float:
        trial.suggest_float("x", 0, 1)
        for step in range(12):
            trial.report(_curve(trial.number, step), step)
            if trial.should_prune():
                raise pruned()
        return _curve(trial.number, 12)

    return objective


PRUNERS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "MedianPruner": ((), {}),
    "PercentilePruner": ((25.0,), {"n_startup_trials": 2}),
    "ThresholdPruner": ((), {"upper": 1.2}),
    "SuccessiveHalvingPruner": ((), {}),
    "HyperbandPruner": ((), {"max_resource": 12}),
    "WilcoxonPruner": ((), {"p_threshold": 0.2}),
    "NopPruner": ((), {}),
}


@pytest.mark.parametrize("name", [*PRUNERS, "PatientPruner"])
def test_pruner_decides_as_the_native_pruner(name: str) -> None:
    def build(module: Any) -> Any:
        if name == "PatientPruner":
            return module.PatientPruner(module.MedianPruner(), patience=1)
        args, kwargs = PRUNERS[name]
        return getattr(module, name)(*args, **kwargs)

    pruner = build(fo)
    assert isinstance(pruner, optuna.pruners.BasePruner)
    ours = optuna.create_study(
        study_name="prune", sampler=optuna.samplers.RandomSampler(seed=0), pruner=pruner
    )
    ours.optimize(_pruned_objective(optuna.TrialPruned), n_trials=30)
    theirs = ferrotune.create_study(
        study_name="prune", sampler=native.RandomSampler(seed=0), pruner=build(ferrotune.pruners)
    )
    theirs.optimize(_pruned_objective(ferrotune.TrialPruned), n_trials=30)

    def outcome(study: Any) -> list[tuple[str, int]]:
        return [(t.state.name, len(t.intermediate_values)) for t in study.trials]

    assert outcome(ours) == outcome(theirs)
    n_pruned = sum(state == "PRUNED" for state, _ in outcome(ours))
    assert (n_pruned == 0) == (name == "NopPruner")


def test_rung_records_are_stored_as_trial_attributes() -> None:
    study = optuna.create_study(pruner=fo.SuccessiveHalvingPruner())
    study.optimize(_pruned_objective(optuna.TrialPruned), n_trials=10)
    records = [
        (t.number, k, v)
        for t in study.trials
        for k, v in t.system_attrs.items()
        if k.startswith("ferrotune:completed_rung_")
    ]
    assert records
    for number, key, value in records:
        assert set(value) == {"values", "promoted", "order"}
        assert value["values"][0] in study.trials[number].intermediate_values.values()
        # Optuna's form under Optuna's key: the value alone.
        plain = study.trials[number].system_attrs[key.removeprefix("ferrotune:")]
        assert plain == value["values"][0]
    # Optuna's own pruner takes the study over (it sorted ferrotune's dicts: TypeError).
    study.pruner = optuna.pruners.SuccessiveHalvingPruner()
    study.optimize(_pruned_objective(optuna.TrialPruned), n_trials=10)
    assert len(study.trials) == 20


def test_patient_pruner_refuses_an_optuna_pruner() -> None:
    with pytest.raises(InvalidArgumentError, match="wrapped_pruner"):
        fo.PatientPruner(optuna.pruners.MedianPruner(), patience=1)


# ---------------------------------------------------------------- two processes
_RUN = """
import json, sys
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
from ferrotune.integration import optuna as fo
from tests.integration.test_optuna_adapters import FINITE, PARTIAL, SAMPLERS, make, mixed, on_grid
out = {}
for name in SAMPLERS:
    study = optuna.create_study(sampler=make(name, seed=11))
    study.optimize(mixed, n_trials=SAMPLERS[name][1])
    out[name] = [t.params for t in study.trials]
for name in FINITE:
    study = optuna.create_study(sampler=FINITE[name](11)[0])
    study.optimize(on_grid, n_trials=400)
    out[name] = [t.params for t in study.trials]
for name in PARTIAL:
    study = optuna.create_study(sampler=PARTIAL[name](11)[0])
    study.optimize(mixed, n_trials=30)
    out[name] = [t.params for t in study.trials]
print(json.dumps(out))
"""


def test_seeds_reproduce_in_two_processes() -> None:
    runs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONPATH": f"{PACKAGE_DIR}{os.pathsep}{ROOT}"}
        env["PYTHONHASHSEED"] = hash_seed
        out = subprocess.run(
            [sys.executable, "-c", _RUN], capture_output=True, text=True, env=env, cwd=ROOT
        )
        assert out.returncode == 0, out.stderr
        runs.append(json.loads(out.stdout))
    assert set(runs[0]) == {*SAMPLERS, *FINITE, *PARTIAL}
    assert runs[0] == runs[1]


def test_constraints_set_by_the_trial_reach_the_samplers() -> None:
    # Trial.set_constraint (Optuna 5's way) stores "constraints:<name>" attributes, which
    # the mirror did not read: the TPE plugin sampled as if unconstrained (20 of 20 late
    # trials infeasible, against 8 with Optuna's TPE). Now it samples as with
    # constraints_func, draw for draw.
    def by_trial(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        trial.set_constraint("c", x - 0.5)
        return -x

    def by_attr(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        trial.set_user_attr("c", x - 0.5)
        return -x

    a = optuna.create_study(sampler=fo.TPESampler(seed=0, n_startup_trials=5))
    a.optimize(by_trial, n_trials=30)
    b = optuna.create_study(
        sampler=fo.TPESampler(
            seed=0, n_startup_trials=5, constraints_func=lambda t: [t.user_attrs["c"]]
        )
    )
    b.optimize(by_attr, n_trials=30)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    assert sum(t.params["x"] > 0.5 for t in a.trials[10:]) <= 12
