"""CmaEsSampler: the update against an independent numpy implementation of the
tutorial's equations, generations shared through trial tags, restarts, bounds,
declared spaces with hard constraints, pickling and a regret check."""

from __future__ import annotations

import math
import multiprocessing
import pickle
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ferrotune
from ferrotune.distributions import FloatDistribution, IntDistribution
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers import CmaEsSampler, RandomSampler
from ferrotune.trial import TrialState

TAG_KIND = 1_129_136_453.0


def _sphere(trial: Any, d: int = 3) -> float:
    return sum((trial.suggest_float(f"x{i}", -5, 5) - 1.0) ** 2 for i in range(d))


def _slow_sphere(trial: Any) -> float:
    """The sphere with an evaluation that takes a moment (and releases the GIL), as
    real objectives do: with an instant one, a thread can be paused between its ask
    and its tell while the other runs a hundred trials, all extras of the open
    generation."""
    time.sleep(0.001)
    return _sphere(trial)


def _rosenbrock(trial: Any, d: int = 10) -> float:
    x = [trial.suggest_float(f"x{i}", -5, 5) for i in range(d)]
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(d - 1))


def _numpy_update(
    state: dict[str, Any], xs: np.ndarray, fs: np.ndarray, separable: bool = False
) -> dict[str, Any]:
    """One generation of the tutorial (arXiv:1604.00772, eq. 38-47, Appendix A); with
    ``separable``, sep-CMA-ES (Ros and Hansen 2008: positive weights, diagonal C, the
    covariance learning rates times (n + 2) / 3)."""
    m, sigma, c, ps, pc, g = (state[k] for k in ("m", "sigma", "C", "ps", "pc", "g"))
    n, lam = len(m), len(fs)
    mu = lam // 2
    wp = np.log((lam + 1) / 2) - np.log(np.arange(1, lam + 1))
    mu_eff = wp[:mu].sum() ** 2 / (wp[:mu] ** 2).sum()
    mu_eff_m = wp[mu:].sum() ** 2 / (wp[mu:] ** 2).sum()
    c1 = 2 / ((n + 1.3) ** 2 + mu_eff)
    cmu = min(1 - c1, 2 * (mu_eff - 2 + 1 / mu_eff) / ((n + 2) ** 2 + mu_eff))
    a = min(1 + c1 / cmu, 1 + 2 * mu_eff_m / (mu_eff + 2), (1 - c1 - cmu) / (n * cmu))
    w = np.where(wp >= 0, wp / wp[wp > 0].sum(), a * wp / -wp[wp < 0].sum())
    if separable:
        w = np.maximum(w, 0.0)
        c1 = min(1.0, c1 * (n + 2) / 3)
        cmu = min(1 - c1, cmu * (n + 2) / 3)
    cs = (mu_eff + 2) / (n + mu_eff + 5)
    ds = 1 + 2 * max(0, math.sqrt((mu_eff - 1) / (n + 1)) - 1) + cs
    cc = (4 + mu_eff / n) / (n + 4 + 2 * mu_eff / n)
    chi = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n))
    order = np.argsort(fs, kind="stable")
    y = (xs[order] - m) / sigma
    yw = w[:mu] @ y[:mu]
    vals, vecs = np.linalg.eigh(c)
    inv_sqrt = vecs @ np.diag(1 / np.sqrt(vals)) @ vecs.T
    g += 1
    m = m + sigma * yw
    ps = (1 - cs) * ps + math.sqrt(cs * (2 - cs) * mu_eff) * inv_sqrt @ yw
    sigma = sigma * math.exp(cs / ds * (np.linalg.norm(ps) / chi - 1))
    hs = np.linalg.norm(ps) / math.sqrt(1 - (1 - cs) ** (2 * (g + 1))) < (1.4 + 2 / (n + 1)) * chi
    pc = (1 - cc) * pc + hs * math.sqrt(cc * (2 - cc) * mu_eff) * yw
    # (46): negative weights rescaled by n / |C^-1/2 y_i|^2
    norms = np.sum((y @ inv_sqrt) ** 2, axis=1)
    wo = np.where(w >= 0, w, w * n / norms)
    dh = (1 - hs) * cc * (2 - cc)
    rank_mu = sum(wi * np.outer(yi, yi) for wi, yi in zip(wo, y, strict=True))
    c = (1 + c1 * dh - c1 - cmu * w.sum()) * c + c1 * np.outer(pc, pc) + cmu * rank_mu
    if separable:
        c = np.diag(np.diag(c))
    return {"m": m, "sigma": sigma, "C": c, "ps": ps, "pc": pc, "g": g}


def _generation(study: ferrotune.Study, g: int) -> tuple[np.ndarray, np.ndarray]:
    """The samples and values of the first popsize complete members of generation g."""
    core = study.core
    rows = []
    for t in study.get_trials(states=(TrialState.COMPLETE,)):
        tag = core.tag(t.number)
        if tag and tag[0] == TAG_KIND and tag[2] == g:
            rows.append((t.number, tag[5:8], t.value))
    rows.sort()
    return np.array([r[1] for r in rows]), np.array([r[2] for r in rows])


@pytest.mark.parametrize("separable", [False, True])
def test_two_generations_match_an_independent_numpy_update(separable: bool) -> None:
    sampler = CmaEsSampler(seed=3, popsize=6, use_separable_cma=separable)
    study = ferrotune.create_study(sampler=sampler)
    state = {
        "m": np.full(3, 0.5),
        "sigma": 1 / 6,
        "C": np.eye(3),
        "ps": np.zeros(3),
        "pc": np.zeros(3),
        "g": 0,
    }
    study.optimize(_sphere, n_trials=1)  # the start-up trial
    for g in range(2):
        study.optimize(_sphere, n_trials=6)
        xs, fs = _generation(study, g)
        assert len(fs) == 6
        state = _numpy_update(state, xs, fs, separable)
        study.ask()  # tells generation g
        model = sampler._rust.model()
        assert model is not None and model[5] == g + 1
        mean, sigma, cov, ps, pc = (np.array(v) for v in model[:5])
        assert np.allclose(mean, state["m"], rtol=0, atol=1e-9)
        assert abs(float(sigma) - state["sigma"]) < 1e-9
        assert np.allclose(cov, state["C"], rtol=0, atol=1e-9)
        assert np.allclose(ps, state["ps"], rtol=0, atol=1e-9)
        assert np.allclose(pc, state["pc"], rtol=0, atol=1e-9)
        study.tell(study.get_trials()[-1].number, state=TrialState.FAIL)


def test_covariance_stays_symmetric_positive_definite() -> None:
    sampler = CmaEsSampler(seed=1)
    study = ferrotune.create_study(sampler=sampler)
    for _ in range(20):
        study.optimize(lambda t: _rosenbrock(t, 4), n_trials=10)
        model = sampler._rust.model()
        assert model is not None
        c = np.array(model[2])
        assert np.array_equal(c, c.T)
        assert np.linalg.eigvalsh(c).min() > 0


def test_ipop_restarts_with_double_the_population() -> None:
    sampler = CmaEsSampler(seed=2, restart_strategy="ipop")
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(lambda t: 0.0 * _sphere(t, 2), n_trials=400)
    model = sampler._rust.model()
    assert model is not None
    restarts = model[7]
    assert len(restarts) >= 2
    assert restarts[0][1] == "EqualFunValues" and restarts[0][2] == 12
    assert restarts[1][2] == 24


@pytest.mark.parametrize("with_margin", [False, True])
def test_values_stay_in_bounds_and_on_their_grid(with_margin: bool) -> None:
    def objective(trial: Any) -> float:
        a = trial.suggest_int("a", -3, 39, step=3)
        b = trial.suggest_float("b", 0.0, 1.0, step=0.125)
        c = trial.suggest_int("c", 1, 1000, log=True)
        d = trial.suggest_float("d", 1e-4, 1.0, log=True)
        return (a - 40) ** 2 + (b - 1.0) ** 2 + math.log(c) + d

    study = ferrotune.create_study(sampler=CmaEsSampler(seed=4, with_margin=with_margin))
    study.optimize(objective, n_trials=150)
    for t in study.trials:
        p = t.params
        assert p["a"] in range(-3, 40, 3)
        assert p["b"] * 8 == round(p["b"] * 8) and 0 <= p["b"] <= 1
        assert 1 <= p["c"] <= 1000 and 1e-4 <= p["d"] <= 1.0
    assert study.best_params["a"] == 39


def test_seeds_reproduce() -> None:
    def run(seed: int) -> list[float]:
        study = ferrotune.create_study(sampler=CmaEsSampler(seed=seed))
        study.optimize(_sphere, n_trials=40)
        return [t.value for t in study.trials if t.value is not None]

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_two_samplers_sharing_a_study_fill_one_generation() -> None:
    first, other = CmaEsSampler(seed=7, popsize=5), CmaEsSampler(seed=8, popsize=5)
    study = ferrotune.create_study(sampler=first)
    study.optimize(_sphere, n_trials=1)
    models = []
    # Alternate the two samplers, ask by ask.
    for k in range(50):
        sampler = first if k % 2 == 0 else other
        study.sampler = sampler
        trial = study.ask()
        models.append(sampler._rust.model())
        study.tell(trial, _sphere(trial))
    gens = [int(study.core.tag(t.number)[2]) for t in study.trials[1:]]
    assert gens == [k // 5 for k in range(50)]
    # Both samplers replay the same generations to the same distribution.
    for k in range(49):
        if gens[k] == gens[k + 1]:
            assert models[k][:7] == models[k + 1][:7]
    assert models[-1][5] == 9


def test_two_threads_fill_generations_without_stalling() -> None:
    sampler = CmaEsSampler(seed=13, popsize=6)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(_slow_sphere, n_trials=120, n_jobs=2)
    # Extras asked while a generation's last member runs join the next generation,
    # so a generation may hold fewer than six trials of its own; what holds is that
    # every sampler replays the same run and most trials entered an update.
    _check_generations(study, [sampler, CmaEsSampler(seed=98, popsize=6)])


def test_a_thread_held_before_its_ask_holds_no_generation() -> None:
    from tests.samplers.test_ga import _HeldStorage

    storage = _HeldStorage()
    study = ferrotune.create_study(storage=storage, sampler=CmaEsSampler(seed=5, popsize=4))
    asked: list[ferrotune.Trial] = []
    thread = threading.Thread(target=lambda: asked.append(study.ask()))
    thread.start()
    assert storage.created.wait(60)

    def objective(trial: ferrotune.Trial) -> float:
        value = _sphere(trial)
        if trial.number % 4 == 1:
            raise ferrotune.TrialPruned()
        return float("nan") if trial.number % 4 == 2 else value  # NaN: FAIL

    # Trial 0 exists, RUNNING without its tag, while another thread runs 40 trials.
    try:
        study.optimize(objective, n_trials=40)
    finally:
        storage.release.set()
        thread.join()
    # (The start-up trials, until one is COMPLETE, have no tag.)
    gens = [int(tag[2]) for tag in map(study.core.tag, range(1, 41)) if tag]
    # The generations advanced (about 20 COMPLETE trials after the start-up one, 4 a
    # generation), and trial 0 joined the one open at its ask.
    assert max(gens) >= 3, gens
    (trial,) = asked
    assert int(study.core.tag(trial.number)[2]) >= max(gens)
    study.tell(trial, _sphere(trial))


def test_a_failed_member_is_replaced() -> None:
    study = ferrotune.create_study(sampler=CmaEsSampler(seed=9, popsize=4))
    study.optimize(_sphere, n_trials=1)
    trial = study.ask()
    study.tell(trial, state=TrialState.FAIL)
    study.optimize(_sphere, n_trials=4)
    tags = [study.core.tag(t.number) for t in study.trials[1:]]
    # Five members of generation 0: the failed one and four that count.
    assert [int(t[2]) for t in tags] == [0, 0, 0, 0, 0]
    study.optimize(_sphere, n_trials=1)
    assert int(study.core.tag(study.trials[-1].number)[2]) == 1


def test_declared_space_with_a_hard_constraint_is_never_violated() -> None:
    space = ferrotune.SearchSpace(
        {
            "x": FloatDistribution(0.0, 1.0),
            "y": FloatDistribution(0.0, 1.0),
            "heads": IntDistribution(1, 8),
            "width": IntDistribution(8, 64, step=8),
        },
        constraints=[
            ferrotune.Linear({"x": 1.0, "y": 1.0}, upper=1.0),
            ferrotune.Divisible("width", "heads"),
        ],
    )
    study = ferrotune.create_study(sampler=CmaEsSampler(seed=10, popsize=6))
    for _ in range(120):
        trial = study.ask(space)
        p = trial.params
        assert p["x"] + p["y"] <= 1.0 + 1e-9
        assert p["width"] % p["heads"] == 0
        study.tell(trial, (p["x"] - 0.7) ** 2 + (p["y"] - 0.3) ** 2)
    tagged = [t for t in study.trials if study.core.tag(t.number)]
    assert len(tagged) > 100
    assert study.best_value < 1e-3


def test_pickling_continues_the_sequence() -> None:
    def run(n: int) -> tuple[ferrotune.Study, CmaEsSampler]:
        sampler = CmaEsSampler(seed=11)
        study = ferrotune.create_study(sampler=sampler)
        study.optimize(_sphere, n_trials=n)
        return study, sampler

    study, sampler = run(30)
    restored = pickle.loads(pickle.dumps(sampler))
    study.sampler = restored
    study.optimize(_sphere, n_trials=10)
    reference, _ = run(40)
    assert [t.params for t in study.trials] == [t.params for t in reference.trials]


def test_arguments_are_refused_with_a_clear_error() -> None:
    bad: list[dict[str, Any]] = [
        {"sigma0": 0.0},
        {"popsize": 1},
        {"inc_popsize": 0},
        {"restart_strategy": "lpop"},
        {"lr_adapt": True, "use_separable_cma": True},
        {"with_margin": True, "use_separable_cma": True},
        {"x0": {"x": float("nan")}},
        {"independent_sampler": ferrotune.samplers.TPESampler()},
        {"source_trials": []},
        {"n_startup_trials": -1},
    ]
    for kwargs in bad:
        with pytest.raises(InvalidArgumentError):
            CmaEsSampler(**kwargs)


@pytest.mark.parametrize("objective", [_sphere, _rosenbrock])
def test_regret_on_10d_problems_beats_random_search(objective: Any) -> None:
    def f(trial: Any) -> float:
        return float(objective(trial, 10))

    wins = 0
    for seed in range(3):
        cma = ferrotune.create_study(sampler=CmaEsSampler(seed=seed))
        cma.optimize(f, n_trials=300)
        rnd = ferrotune.create_study(sampler=RandomSampler(seed=seed))
        rnd.optimize(f, n_trials=300)
        wins += cma.best_value < rnd.best_value
    assert wins == 3


def test_categorical_parameters_are_modelled() -> None:
    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", -5, 5)
        y = trial.suggest_float("y", -5, 5)
        act = trial.suggest_categorical("act", ["a", "b", "c", "d", "e"])
        return x**2 + y**2 + (0.0 if act == "d" else 5.0)

    study = ferrotune.create_study(sampler=CmaEsSampler(seed=12))
    study.optimize(objective, n_trials=200)
    late = [t.params["act"] for t in study.trials[-50:]]
    assert late.count("d") > 25


def test_maximisation_ranks_by_the_negated_value() -> None:
    study = ferrotune.create_study(direction="maximize", sampler=CmaEsSampler(seed=14))
    study.optimize(lambda t: -_sphere(t), n_trials=300)
    assert study.best_value > -1e-3


@pytest.mark.parametrize("consider", [False, True])
def test_pruned_trials_count_only_when_considered(consider: bool) -> None:
    sampler = CmaEsSampler(seed=15, popsize=4, consider_pruned_trials=consider)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(_sphere, n_trials=1)
    for _ in range(40):
        trial = study.ask()
        trial.report(_sphere(trial), step=1)
        study.tell(trial, state=TrialState.PRUNED)
    model = sampler._rust.model()
    assert model is not None
    # Pruned members are replaced, never waited for; considered, they fill generations.
    assert model[5] == (9 if consider else 0)


def _storage(kind: str, tmp_path: Path) -> ferrotune.storages.BaseStorage | str:
    if kind == "sqlite":
        pytest.importorskip("sqlalchemy")
        return f"sqlite:///{tmp_path / 'cma.db'}"
    return ferrotune.storages.InMemoryStorage()


def _tags_persist(storage: ferrotune.storages.BaseStorage | str) -> bool:
    """Whether another Study object of ``storage`` sees the samplers' tags."""
    study = ferrotune.create_study(storage=storage, study_name="cma", sampler=CmaEsSampler(seed=0))
    study.optimize(_sphere, n_trials=2)
    other = ferrotune.load_study(study_name="cma", storage=storage, sampler=CmaEsSampler(seed=0))
    return bool(other.core.tag(1))


def _check_generations(study: ferrotune.Study, samplers: list[CmaEsSampler]) -> None:
    """Each sampler, asked once more, replays the study's generations to the same
    distribution; a good share of the trials entered an update (a member that runs
    long holds its generation open, and the extras asked meanwhile beyond what the
    next generation takes are lost)."""
    models = []
    for sampler in samplers:
        study.sampler = sampler
        trial = study.ask()
        models.append(sampler._rust.model())
        study.tell(trial, state=TrialState.FAIL)
    assert all(m is not None and m[:7] == models[0][:7] for m in models)
    popsize = models[0][6]
    n_tagged = sum(bool(study.core.tag(t.number)) for t in study.trials)
    assert models[0][5] * popsize >= n_tagged / 3


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_workers_on_one_storage_share_generations(kind: str, tmp_path: Path) -> None:
    storage = _storage(kind, tmp_path)
    assert _tags_persist(storage), "the storage lost the samplers' tags"
    workers = [
        ferrotune.load_study(
            study_name="cma", storage=storage, sampler=CmaEsSampler(seed=w, popsize=5)
        )
        for w in range(2)
    ]
    threads = [threading.Thread(target=w.optimize, args=(_slow_sphere, 40)) for w in workers]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    samplers = [w.sampler for w in workers] + [CmaEsSampler(seed=99, popsize=5)]
    _check_generations(workers[0], [s for s in samplers if isinstance(s, CmaEsSampler)])


def _worker(url: str, seed: int) -> None:
    study = ferrotune.load_study(
        study_name="cma", storage=url, sampler=CmaEsSampler(seed=seed, popsize=6)
    )
    study.optimize(_slow_sphere, n_trials=30)


def test_four_worker_processes_on_sqlite_share_generations(tmp_path: Path) -> None:
    storage = _storage("sqlite", tmp_path)
    assert isinstance(storage, str)
    assert _tags_persist(storage), "the SQLite storage lost the samplers' tags"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(storage, 10 + w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    study = ferrotune.load_study(study_name="cma", storage=storage)
    assert len(study.trials) == 2 + 4 * 30
    _check_generations(study, [CmaEsSampler(seed=s, popsize=6) for s in (98, 99)])


@pytest.mark.parametrize("seed", [0, 2])
def test_margin_on_an_integer_range_finer_than_a_float(seed: int) -> None:
    """with_margin=True failed trials ('a sampler's tag holds finite numbers, got NaN')
    on suggest_int(-2**52, 2**52), a range the study accepts: its cells are narrower than
    a float's resolution. Such a parameter is now searched as continuous."""
    study = ferrotune.create_study(sampler=CmaEsSampler(seed=seed, with_margin=True))
    study.optimize(
        lambda t: (
            abs(t.suggest_int("c", -(2**52), 2**52) - 2**50) / 2**52
            + (t.suggest_int("k", 0, 4) - 3) ** 2
        ),
        n_trials=80,
    )
    assert all(t.state == ferrotune.TrialState.COMPLETE for t in study.trials)
    assert study.best_params["k"] == 3
