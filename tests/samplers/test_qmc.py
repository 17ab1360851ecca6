"""QMCSampler: the relative space follows the low-discrepancy sequence after the first
trial, seeding, pickling, and arguments."""

from __future__ import annotations

import collections
import json
import math
import pickle
import subprocess
import sys
import textwrap
import warnings

import pytest

import ferrotune
from ferrotune.distributions import CategoricalDistribution, FloatDistribution
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers import QMCSampler

QMC_TYPES = ["sobol", "halton"]


def _xs(sampler: QMCSampler, n_trials: int) -> list[float]:
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=n_trials)
    return [t.params["x"] for t in study.trials]


def _cells(xs: list[float], n: int) -> list[int]:
    return sorted(int(x * n) for x in xs)


@pytest.mark.parametrize("qmc_type", QMC_TYPES)
@pytest.mark.parametrize("seed", [0, 1, 2, 12345])
def test_relative_space_uses_the_sequence_after_the_first_trial(qmc_type: str, seed: int) -> None:
    """The first trial has no history and is drawn at random; trials 1..64 are the first 64
    points of the (scrambled) sequence, which put exactly one point in every interval
    [k/64, (k+1)/64)."""
    xs = _xs(QMCSampler(qmc_type=qmc_type, scramble=True, seed=seed), 65)
    assert _cells(xs[1:], 64) == list(range(64))


@pytest.mark.parametrize("qmc_type", QMC_TYPES)
def test_random_draws_do_not_stratify(qmc_type: str) -> None:
    """Control for the test above: 64 random points almost never hit all 64 cells."""
    study = ferrotune.create_study(sampler=ferrotune.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=64)
    assert _cells([t.params["x"] for t in study.trials], 64) != list(range(64))


def test_sobol_two_dimensional_net() -> None:
    """Scrambled Sobol in 2-D is a (0, m, 2)-net: 64 points, one in every 8 x 8 cell."""
    study = ferrotune.create_study(sampler=QMCSampler(seed=9))

    def objective(t: ferrotune.Trial) -> float:
        return t.suggest_float("a", 0.0, 1.0) + t.suggest_float("b", 0.0, 1.0)

    study.optimize(objective, n_trials=65)
    cells = {(int(t.params["a"] * 8), int(t.params["b"] * 8)) for t in study.trials[1:]}
    assert len(cells) == 64


def test_unscrambled_sobol_is_the_classic_sequence() -> None:
    xs = _xs(QMCSampler(qmc_type="sobol", scramble=False, seed=3), 5)
    assert xs[1:] == [0.0, 0.5, 0.75, 0.25]


def test_unscrambled_halton_is_the_van_der_corput_sequence() -> None:
    xs = _xs(QMCSampler(qmc_type="halton", scramble=False, seed=3), 6)
    assert xs[1:] == pytest.approx([0.0, 0.5, 0.25, 0.75, 0.125])


@pytest.mark.parametrize("qmc_type", QMC_TYPES)
def test_declared_space_uses_the_sequence_from_the_first_trial(qmc_type: str) -> None:
    space = ferrotune.SearchSpace({"x": FloatDistribution(0.0, 1.0)})
    study = ferrotune.create_study(sampler=QMCSampler(qmc_type=qmc_type, seed=4))
    for _ in range(64):
        study.tell(study.ask(space), 0.0)
    assert _cells([t.params["x"] for t in study.trials], 64) == list(range(64))


@pytest.mark.parametrize("qmc_type", QMC_TYPES)
def test_mapped_distributions_are_stratified(qmc_type: str) -> None:
    """The sequence goes through each distribution's mapping: a 4-choice categorical gets
    each choice 16 times in 64 trials, and a log float one point per log-space cell."""
    study = ferrotune.create_study(sampler=QMCSampler(qmc_type=qmc_type, seed=5))
    study.optimize(lambda t: len(t.suggest_categorical("c", ["a", "b", "cc", "d"])), n_trials=65)
    counts = collections.Counter(t.params["c"] for t in study.trials[1:])
    assert counts == {k: 16 for k in ["a", "b", "cc", "d"]}

    study = ferrotune.create_study(sampler=QMCSampler(qmc_type=qmc_type, seed=5))
    study.optimize(lambda t: t.suggest_float("lr", 1e-4, 1.0, log=True), n_trials=65)
    log_u = [(math.log(t.params["lr"]) - math.log(1e-4)) / math.log(1e4) for t in study.trials[1:]]
    assert _cells(log_u, 64) == list(range(64))


@pytest.mark.parametrize("qmc_type", QMC_TYPES)
def test_seeds_and_scrambling(qmc_type: str) -> None:
    assert _xs(QMCSampler(qmc_type=qmc_type, seed=1), 10) == _xs(
        QMCSampler(qmc_type=qmc_type, seed=1), 10
    )
    assert _xs(QMCSampler(qmc_type=qmc_type, seed=1), 10) != _xs(
        QMCSampler(qmc_type=qmc_type, seed=2), 10
    )
    # Without scrambling the sequence does not depend on the seed (only the first,
    # random, trial does).
    a = _xs(QMCSampler(qmc_type=qmc_type, scramble=False, seed=1), 10)
    b = _xs(QMCSampler(qmc_type=qmc_type, scramble=False, seed=2), 10)
    assert a[1:] == b[1:]


@pytest.mark.parametrize("qmc_type", QMC_TYPES)
def test_seed_reproduces_in_another_process(qmc_type: str) -> None:
    script = textwrap.dedent(
        f"""
        import json, ferrotune
        from ferrotune.distributions import FloatDistribution, CategoricalDistribution
        from ferrotune.samplers import QMCSampler
        study = ferrotune.create_study(sampler=QMCSampler(qmc_type={qmc_type!r}, seed=99))
        space = ferrotune.SearchSpace(
            {{"u": FloatDistribution(-1.0, 1.0), "k": CategoricalDistribution([1, 2, 3])}}
        )
        for _ in range(12):
            t = study.ask(space)
            t.suggest_float("x", 0.0, 1.0)
            t.suggest_int("n", 1, 100, log=True)
            study.tell(t, 0.0)
        print(json.dumps([t.params for t in study.trials]))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    study = ferrotune.create_study(sampler=QMCSampler(qmc_type=qmc_type, seed=99))
    space = ferrotune.SearchSpace(
        {"u": FloatDistribution(-1.0, 1.0), "k": CategoricalDistribution([1, 2, 3])}
    )
    for _ in range(12):
        t = study.ask(space)
        t.suggest_float("x", 0.0, 1.0)
        t.suggest_int("n", 1, 100, log=True)
        study.tell(t, 0.0)
    assert json.loads(json.dumps([t.params for t in study.trials])) == json.loads(out.stdout)


@pytest.mark.parametrize("qmc_type", QMC_TYPES)
def test_pickle_of_a_fresh_sampler(qmc_type: str) -> None:
    sampler = QMCSampler(qmc_type=qmc_type, seed=8)
    clone = pickle.loads(pickle.dumps(sampler))
    assert _xs(clone, 20) == _xs(sampler, 20)


@pytest.mark.parametrize("qmc_type", QMC_TYPES)
def test_pickle_round_trip_continues_the_sequence(qmc_type: str) -> None:
    """A sampler pickled mid-study (e.g. to checkpoint or to send to a worker) continues
    exactly where the original does."""
    sampler = QMCSampler(qmc_type=qmc_type, seed=8)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=10)
    clone = pickle.loads(pickle.dumps(sampler))
    assert _xs(clone, 10) == _xs(sampler, 10)


def test_independent_sampling_warns_outside_the_relative_space() -> None:
    """As in Optuna: a parameter that was not in the first complete trial is sampled at
    random, with a warning unless warn_independent_sampling=False."""

    def objective(t: ferrotune.Trial) -> float:
        x = t.suggest_float("x", 0.0, 1.0)
        if t.number >= 2:
            t.suggest_float("extra", 0.0, 1.0)
        return x

    for warn in (True, False):
        study = ferrotune.create_study(sampler=QMCSampler(seed=0, warn_independent_sampling=warn))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            study.optimize(objective, n_trials=4)
        mentions = [w for w in caught if "extra" in str(w.message)]
        assert bool(mentions) == warn


def test_bad_qmc_type() -> None:
    with pytest.raises(InvalidArgumentError, match="qmc_type"):
        QMCSampler(qmc_type="lhs")


def test_relative_space_ignores_single_valued_distributions() -> None:
    """Single-valued parameters take their one value and do not consume a dimension, so
    the sequence still stratifies the remaining parameter."""
    study = ferrotune.create_study(sampler=QMCSampler(seed=6))

    def objective(t: ferrotune.Trial) -> float:
        assert t.suggest_int("fixed", 3, 3) == 3
        return t.suggest_float("x", 0.0, 1.0)

    study.optimize(objective, n_trials=33)
    assert _cells([t.params["x"] for t in study.trials[1:]], 32) == list(range(32))
