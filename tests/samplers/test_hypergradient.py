"""HypergradientSampler: convergence on quadratics with known optima (linear and log
parameters, one and two workers), the fallback, arguments, pickling."""

from __future__ import annotations

import math
import multiprocessing
import pickle
from pathlib import Path

import pytest

import ferrotune
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers import HypergradientSampler, RandomSampler

# Optimum of the quadratic: linear parameters x0..x3 in [-10, 10], log ones l0..l3 in
# [1e-4, 1e2], the last of each on a bound (the projection must hold it there).
LINEAR = {"x0": 3.0, "x1": -7.5, "x2": 0.2, "x3": 10.0}
LOG = {"l0": 1e-2, "l1": 3.0, "l2": 1e-3, "l3": 1e-4}


def quadratic(trial: ferrotune.Trial) -> float:
    """sum (x - opt)^2 + sum (ln l - ln opt)^2, reporting its exact gradient with
    respect to each value as suggested."""
    value, grad = 0.0, {}
    for name, opt in LINEAR.items():
        x = trial.suggest_float(name, -10.0, 10.0)
        value += (x - opt) ** 2
        grad[name] = 2 * (x - opt)
    for name, opt in LOG.items():
        lam = trial.suggest_float(name, 1e-4, 1e2, log=True)
        value += math.log(lam / opt) ** 2
        grad[name] = 2 * math.log(lam / opt) / lam
    trial.report_gradient(grad)
    return value


def _assert_near_optimum(params: dict[str, float], tol: float) -> None:
    for name, opt in LINEAR.items():
        assert abs(params[name] - opt) < tol * 20, (name, params[name], opt)
    for name, opt in LOG.items():
        assert abs(math.log(params[name] / opt)) < tol * math.log(1e6), (name, params[name])


def test_converges_on_a_quadratic_with_linear_and_log_parameters() -> None:
    study = ferrotune.create_study(sampler=HypergradientSampler(seed=0))
    study.optimize(quadratic, n_trials=150)
    # The first trial is the centre (the geometric mean for log parameters).
    first = study.trials[0].params
    assert first["x0"] == 0.0 and first["l0"] == pytest.approx(0.1)
    _assert_near_optimum(study.trials[-1].params, tol=0.01)
    assert study.best_value < 1e-2
    assert study.trials[-1].params["x3"] == 10.0 and study.trials[-1].params["l3"] == 1e-4
    # Against random search with the same budget: orders of magnitude lower.
    rand = ferrotune.create_study(sampler=RandomSampler(seed=0))
    rand.optimize(quadratic, n_trials=150)
    assert study.best_value < rand.best_value / 100


def test_sgd_and_a_maximised_study_and_x0() -> None:
    def negated(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", -10.0, 10.0)
        trial.report_gradient({"x": -2 * (x - 3.0)})
        return -((x - 3.0) ** 2)

    sampler = HypergradientSampler(optimizer="sgd", lr=0.001, x0={"x": -9.0}, seed=1)
    study = ferrotune.create_study(direction="maximize", sampler=sampler)
    study.optimize(negated, n_trials=60)
    assert study.trials[0].params["x"] == -9.0
    assert abs(study.trials[-1].params["x"] - 3.0) < 1e-3
    assert sampler.iterate["x"] == pytest.approx(study.trials[-1].params["x"], abs=1e-3)


def test_two_threads_converge() -> None:
    study = ferrotune.create_study(sampler=HypergradientSampler(seed=2))
    study.optimize(quadratic, n_trials=200, n_jobs=2)
    assert study.best_value < 1e-1
    # Parallel asks do not all repeat one point: the look-ahead step separates them.
    points = {tuple(t.params.values()) for t in study.trials}
    assert len(points) > 150


def _worker(url: str, name: str, seed: int, n: int) -> None:
    study = ferrotune.load_study(
        study_name=name, storage=url, sampler=HypergradientSampler(seed=seed)
    )
    study.optimize(quadratic, n_trials=n)


def test_two_processes_on_sqlite_converge(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hg.db'}"
    ferrotune.create_study(study_name="hg", storage=url)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(url, "hg", s, 100)) for s in (0, 1)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    study = ferrotune.load_study(study_name="hg", storage=url)
    assert len(study.trials) == 200
    assert study.best_value < 1e-1
    _assert_near_optimum(study.best_params, tol=0.05)


def test_parameters_without_gradient_fall_back_to_uniform_draws() -> None:
    def partly(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", -10.0, 10.0)
        y = trial.suggest_float("y", 1e-3, 1.0, log=True)
        n = trial.suggest_int("n", 1, 8)
        c = trial.suggest_categorical("c", ["a", "b", "c"])
        trial.report_gradient({"x": 2 * (x - 3.0)})
        return (x - 3.0) ** 2 + y + n + (c != "a")

    study = ferrotune.create_study(sampler=HypergradientSampler(seed=3))
    study.optimize(partly, n_trials=120)
    ys = [t.params["y"] for t in study.trials]
    assert ys[0] == pytest.approx(math.sqrt(1e-3))  # the start, before any trial ended
    assert len(set(ys[1:])) == len(ys) - 1 and all(1e-3 <= y <= 1.0 for y in ys)
    assert {t.params["n"] for t in study.trials} == set(range(1, 9))
    assert {t.params["c"] for t in study.trials} == {"a", "b", "c"}
    assert abs(study.trials[-1].params["x"] - 3.0) < 0.05


def test_a_study_without_gradients_is_random_search_after_its_first_trial() -> None:
    def plain(trial: ferrotune.Trial) -> float:
        return trial.suggest_float("x", 0.0, 1.0)

    a = ferrotune.create_study(sampler=HypergradientSampler(seed=4))
    b = ferrotune.create_study(sampler=HypergradientSampler(seed=5))
    a.optimize(plain, n_trials=30)
    b.optimize(plain, n_trials=30)
    xa = [t.params["x"] for t in a.trials]
    assert xa[0] == 0.5 and len(set(xa)) == 30
    assert xa[1:] != [t.params["x"] for t in b.trials][1:]


def test_pickling_continues_the_steps() -> None:
    study = ferrotune.create_study(sampler=HypergradientSampler(seed=6))
    study.optimize(quadratic, n_trials=10)
    loaded = pickle.loads(pickle.dumps(study))
    study.optimize(quadratic, n_trials=10)
    loaded.optimize(quadratic, n_trials=10)
    assert [t.params for t in loaded.trials] == [t.params for t in study.trials]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lr": 0.0}, "lr must be a finite number > 0"),
        ({"lr": math.nan}, "lr must be"),
        ({"betas": (0.9, 1.0)}, r"betas\[1\] must be in"),
        ({"betas": (1.5, 0.9)}, r"betas\[0\] must be in"),
        ({"betas": 0.9}, "betas must be a pair"),
        ({"eps": -1.0}, "eps must be"),
        ({"optimizer": "lbfgs"}, "optimizer must be 'adam' or 'sgd'"),
        ({"start": "corner"}, "start must be 'centre' or 'random'"),
        ({"x0": [1.0]}, "x0 must be a mapping"),
        ({"lr": "fast"}, "lr must be a number"),
        ({"x0": {"x": None}}, r"x0\['x'\] must be a number"),
        ({"x0": {"x": math.inf}}, r"x0\[\"x\"\] must be a finite number"),
    ],
)
def test_bad_arguments_are_refused_by_name(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        HypergradientSampler(**kwargs)  # type: ignore[arg-type]


def test_a_study_with_several_objectives_is_refused() -> None:
    study = ferrotune.create_study(
        directions=["minimize", "minimize"], sampler=HypergradientSampler(seed=0)
    )
    with pytest.raises(InvalidArgumentError, match="one objective; this study has 2"):
        study.ask()
