"""GASampler: arguments, seeds, pickling, generations built together by two samplers and by
``n_jobs`` threads sharing a study, failed members replaced, aging evolution, declared spaces
never violated, conditional define-by-run spaces, and regret against random sampling."""

from __future__ import annotations

import pickle
import statistics
import threading
from typing import Any

import pytest

import ferrotune
from ferrotune.benchmarks import get_problem
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers import GASampler, RandomSampler
from ferrotune.trial import TrialState
from tests._support import suggest
from tests.samplers.test_tpe import _SPACE, _space_loss, _space_violations


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"population_size": 1}, "population_size"),
        ({"population_size": 2.5}, "population_size"),
        ({"mode": "steady"}, "mode"),
        ({"tournament_size": 0}, "tournament_size"),
        ({"n_elites": -1}, "n_elites"),
        ({"population_size": 4, "n_elites": 50}, "n_elites"),
        ({"crossover_prob": 1.5}, "crossover_prob"),
        ({"swapping_prob": "a"}, "swapping_prob"),
        ({"mutation_prob": -0.1}, "mutation_prob"),
        ({"eta_c": -1.0}, "eta_c"),
        ({"eta_m": float("nan")}, "eta_m"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_bad_arguments_are_refused_by_name(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidArgumentError, match=name):
        GASampler(**kwargs)


def test_several_objectives_are_refused() -> None:
    study = ferrotune.create_study(directions=["minimize", "minimize"], sampler=GASampler())
    with pytest.raises(InvalidArgumentError, match="one objective"):
        study.ask()


def _objective(trial: ferrotune.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    n = trial.suggest_int("n", 1, 64, log=True)
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    return (x - 1.0) ** 2 + abs(n - 8) / 8 + (c != "b")


def _params(sampler: GASampler, n: int = 40) -> list[dict[str, Any]]:
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(_objective, n_trials=n)
    return [t.params for t in study.trials]


@pytest.mark.parametrize("mode", ["generational", "aging"])
def test_seeds_reproduce(mode: str) -> None:
    a = _params(GASampler(seed=3, population_size=6, mode=mode))
    assert a == _params(GASampler(seed=3, population_size=6, mode=mode))
    assert a != _params(GASampler(seed=4, population_size=6, mode=mode))


def test_pickle_round_trip_continues_the_sequence() -> None:
    sampler = GASampler(seed=3, population_size=5)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(_objective, n_trials=17)
    replica = pickle.loads(pickle.dumps(study))
    replica.sampler = pickle.loads(pickle.dumps(sampler))
    twin = pickle.loads(pickle.dumps(study))
    twin.sampler = pickle.loads(pickle.dumps(sampler))
    # A fresh sampler with the same seed: the generator's state, not just the seed, must
    # have travelled through the pickle.
    fresh = pickle.loads(pickle.dumps(study))
    fresh.sampler = GASampler(seed=3, population_size=5)
    for s in (replica, twin, fresh):
        s.optimize(_objective, n_trials=10)
    ours = [t.params for t in replica.trials[17:]]
    assert [t.params for t in twin.trials[17:]] == ours
    assert [t.params for t in fresh.trials[17:]] != ours


def test_two_samplers_sharing_a_study_build_one_generation() -> None:
    storage = ferrotune.storages.InMemoryStorage()
    first = ferrotune.create_study(
        storage=storage, study_name="s", sampler=GASampler(seed=1, population_size=4)
    )
    second = ferrotune.load_study(
        study_name="s", storage=storage, sampler=GASampler(seed=2, population_size=4)
    )
    for i in range(20):
        study = first if i % 2 == 0 else second
        study.optimize(_objective, n_trials=1)
    tags = [first.core.tag(n) for n in range(20)]
    # Four members a generation, in trial order, whichever sampler proposed them.
    assert [t[1] for t in tags] == [n // 4 for n in range(20)], tags


def _pruned_or_failed(trial: ferrotune.Trial) -> float:
    """``_objective``, with every 4th trial PRUNED and every 4th + 2 FAIL (NaN)."""
    value = _objective(trial)
    if trial.number % 4 == 1:
        raise ferrotune.TrialPruned()
    if trial.number % 4 == 2:
        return float("nan")  # FAIL
    return value


def test_failed_and_pruned_members_are_replaced_with_threads() -> None:
    study = ferrotune.create_study(sampler=GASampler(seed=5, population_size=5))
    # Two threads, each asking while the other's trial runs; a trial is told once the
    # trial before it is, so that how the interpreter shares its time between the
    # threads (bursts of many fast trials) cannot hold one thread's trial running while
    # the other runs dozens into the open generation.
    told: set[int] = set()
    turn = threading.Condition()

    def objective(trial: ferrotune.Trial) -> float:
        with turn:
            assert turn.wait_for(lambda: trial.number - 1 in told or trial.number == 0, 60)
        return _pruned_or_failed(trial)

    def after(_: ferrotune.Study, frozen: ferrotune.trial.FrozenTrial) -> None:
        with turn:
            told.add(frozen.number)
            turn.notify_all()

    study.optimize(objective, n_trials=60, n_jobs=2, callbacks=[after])
    by_gen: dict[int, list[ferrotune.trial.FrozenTrial]] = {}
    for t in study.trials:
        by_gen.setdefault(int(study.core.tag(t.number)[1]), []).append(t)
    gens = sorted(by_gen)
    # Generations advance despite a FAIL or PRUNED trial in every other one. (A generation
    # made only of the late members of the one before has no trials of its own.)
    assert gens[0] == 0 and max(gens) >= 4, gens
    # Every closed generation chose five COMPLETE members: its own, and members of the
    # generation before asked while that one waited (they compete in the next one).
    for g in gens[:-1]:
        pool = by_gen[g] + by_gen.get(g - 1, [])
        done = [t for t in pool if t.state == TrialState.COMPLETE]
        assert len(done) >= 5, (g, [t.state for t in by_gen[g]])


class _HeldStorage(ferrotune.storages.InMemoryStorage):
    """Holds the ask of the first trial between the trial's creation and its proposal, as
    a thread the interpreter or the system leaves waiting there."""

    def __init__(self) -> None:
        super().__init__()
        self.created = threading.Event()
        self.release = threading.Event()
        self.held: int | None = None

    def start_trial(self, study_id: int) -> tuple[int, dict[str, Any]]:
        number, fixed = super().start_trial(study_id)
        if self.held is None:
            self.held = number
            self.created.set()
            assert self.release.wait(60)
        return number, fixed


def test_a_thread_held_before_its_ask_holds_no_generation() -> None:
    storage = _HeldStorage()
    study = ferrotune.create_study(storage=storage, sampler=GASampler(seed=5, population_size=5))
    asked: list[ferrotune.Trial] = []
    thread = threading.Thread(target=lambda: asked.append(study.ask()))
    thread.start()
    assert storage.created.wait(60)
    # Trial 0 exists, RUNNING without its generation's tag, while another thread runs 40.
    try:
        study.optimize(_pruned_or_failed, n_trials=40)
    finally:
        storage.release.set()
        thread.join()
    gens = [int(study.core.tag(n)[1]) for n in range(1, 41)]
    # The generations advanced (20 COMPLETE trials, 5 a generation) ...
    assert max(gens) >= 3, gens
    # ... and trial 0 joined the one open at its ask, not one already closed.
    (trial,) = asked
    assert trial.number == 0
    assert study.core.tag(0)[1] >= max(gens)
    study.tell(trial, _objective(trial))


@pytest.mark.parametrize("mode", ["generational", "aging"])
def test_declared_space_is_never_violated(mode: str) -> None:
    study = ferrotune.create_study(sampler=GASampler(seed=2, population_size=8, mode=mode))
    for _ in range(120):
        trial = study.ask(_SPACE)
        params = trial.params
        assert not _space_violations(params), (trial.number, params)
        study.tell(trial, _space_loss(params))


def test_conditional_define_by_run_space() -> None:
    def objective(trial: ferrotune.Trial) -> float:
        kind = trial.suggest_categorical("kind", ["linear", "tree"])
        if kind == "linear":
            c = trial.suggest_float("c", 1e-4, 1e2, log=True)
            return abs(c - 1.0)
        depth = trial.suggest_int("depth", 1, 16)
        return abs(depth - 5) / 10

    best = []
    for seed in range(5):
        study = ferrotune.create_study(sampler=GASampler(seed=seed, population_size=8))
        study.optimize(objective, n_trials=120)
        for t in study.trials:
            expected = {"kind", "c"} if t.params["kind"] == "linear" else {"kind", "depth"}
            assert set(t.params) == expected
        best.append(study.best_value)
    # An optimum in either branch, found by most seeds (one may settle on depth 3 or 7).
    assert statistics.median(best) < 0.05, best


def _regret(sampler: ferrotune.samplers.BaseSampler, name: str, n_trials: int) -> float:
    problem = get_problem(name)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(
        lambda t: problem({k: suggest(t, k, d) for k, d in problem.space.items()}),
        n_trials=n_trials,
    )
    return problem.regret(study.best_value)


@pytest.mark.parametrize(
    ("name", "mode"),
    [("hartmann6", "generational"), ("mixed", "generational"), ("hartmann6", "aging")],
)
def test_regret_beats_random(name: str, mode: str) -> None:
    ga = [_regret(GASampler(seed=s, population_size=20, mode=mode), name, 400) for s in range(5)]
    rnd = [_regret(RandomSampler(seed=s), name, 400) for s in range(5)]
    assert statistics.median(ga) < statistics.median(rnd), (ga, rnd)
