"""numpy scalars are numbers: every sampler, pruner and importance evaluator takes numpy
versions of its numeric arguments (a config read from an array gives np.float32 and
np.int64), works with them, and pickles; a string where a number belongs is an
InvalidArgumentError naming the argument."""

from __future__ import annotations

import inspect
import pickle
from typing import Any

import numpy as np
import pytest

import ferrotune
import ferrotune.importance as importance
import ferrotune.pruners as pruners
import ferrotune.samplers as samplers
from ferrotune.exceptions import InvalidArgumentError


def _numpy_defaults(cls: type) -> dict[str, Any]:
    """The class's int and float defaults as np.int64 and np.float32."""
    out: dict[str, Any] = {}
    for p in inspect.signature(cls.__init__).parameters.values():
        if type(p.default) is int:
            out[p.name] = np.int64(p.default)
        elif type(p.default) is float:
            out[p.name] = np.float32(p.default)
    return out


_SAMPLERS = [
    n
    for n in samplers.__all__
    if inspect.isclass(getattr(samplers, n))
    and n not in ("BaseSampler", "GridSampler", "PartialFixedSampler")
]


def _objective(trial: ferrotune.Trial) -> float:
    x = trial.suggest_float("x", -2.0, 2.0, step=0.25)  # a step, for BruteForceSampler
    n = trial.suggest_int("n", 1, 8)
    return (x - 0.5) ** 2 + abs(n - 3)


@pytest.mark.parametrize("name", _SAMPLERS)
def test_samplers_take_numpy_numbers(name: str) -> None:
    cls = getattr(samplers, name)
    kwargs = _numpy_defaults(cls)
    assert kwargs or name in ("BruteForceSampler", "QMCSampler", "RandomSampler")
    if "seed" in inspect.signature(cls.__init__).parameters:
        kwargs["seed"] = np.int64(3)
    sampler = cls(**kwargs)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(_objective, n_trials=6)
    assert len(study.trials) == 6
    for t in study.trials:
        assert -2.0 <= t.params["x"] <= 2.0 and 1 <= t.params["n"] <= 8
    again = pickle.loads(pickle.dumps(study))
    again.optimize(_objective, n_trials=1)
    assert len(again.trials) == 7


def _pruners() -> list[Any]:
    out = []
    for n in pruners.__all__:
        cls = getattr(pruners, n)
        if not inspect.isclass(cls) or n == "BasePruner":
            continue
        kwargs = _numpy_defaults(cls)
        if n == "PercentilePruner":
            kwargs["percentile"] = np.float32(50.0)
        if n == "PatientPruner":
            kwargs.update(wrapped_pruner=pruners.MedianPruner(), patience=np.int64(1))
        if n == "ThresholdPruner":
            kwargs["upper"] = np.float32(1.5)
        if n == "HyperbandPruner":
            kwargs["max_resource"] = np.int64(9)
        out.append(pytest.param(cls, kwargs, id=n))
    return out


@pytest.mark.parametrize(("cls", "kwargs"), _pruners())
def test_pruners_take_numpy_numbers(cls: type, kwargs: dict[str, Any]) -> None:
    study = ferrotune.create_study(sampler=samplers.RandomSampler(seed=0), pruner=cls(**kwargs))

    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        for step in range(1, 10):
            trial.report(x * (1.0 + 1.0 / step), step)
            if trial.should_prune():
                raise ferrotune.TrialPruned()
        return x

    study.optimize(objective, n_trials=12)
    states = {t.state for t in study.trials}
    assert states <= {ferrotune.trial.TrialState.COMPLETE, ferrotune.trial.TrialState.PRUNED}
    pickle.loads(pickle.dumps(study))


@pytest.mark.parametrize(
    "name", [n for n in importance.__all__ if n.endswith("Evaluator") and n != "Base" + n[4:]]
)
def test_importance_evaluators_take_numpy_numbers(name: str) -> None:
    cls = getattr(importance, name)
    if not inspect.isclass(cls) or inspect.isabstract(cls):
        pytest.skip("abstract")
    kwargs = _numpy_defaults(cls)
    if "seed" in inspect.signature(cls.__init__).parameters:
        kwargs["seed"] = np.int64(0)
    study = ferrotune.create_study(sampler=samplers.RandomSampler(seed=1))
    study.optimize(_objective, n_trials=30)
    scores = importance.get_param_importances(study, evaluator=cls(**kwargs))
    assert set(scores) == {"x", "n"}
    assert sum(scores.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: samplers.ReinforceSampler(learning_rate="0.01"), "learning_rate"),
        (lambda: samplers.RFSampler(random_fraction="0.2"), "random_fraction"),
        (lambda: samplers.DESampler(mutation_factor="0.5"), "mutation_factor"),
        (lambda: samplers.BOHBSampler(min_bandwidth="0.1"), "min_bandwidth"),
        (lambda: importance.FanovaImportanceEvaluator(n_trees="8"), "n_trees"),
        (lambda: importance.PedAnovaImportanceEvaluator(target_quantile="0.1"), "target_quantile"),
        (lambda: ferrotune.study.MaxTrialsCallback(np.float64(3.0)), "n_trials"),
        (lambda: pruners.ThresholdPruner(upper="1.5"), "upper"),
        (lambda: pruners.PercentilePruner(percentile="50"), "percentile"),
        (lambda: samplers.HypergradientSampler(lr="0.01"), "lr"),
        (lambda: samplers.HypergradientSampler(lr=np.bool_(True)), "lr"),
    ],
)
def test_a_string_where_a_number_belongs_names_the_argument(build: Any, name: str) -> None:
    with pytest.raises(InvalidArgumentError, match=name):
        build()


def test_numpy_ints_keep_the_checks_that_python_ints_get() -> None:
    """DEHB's ratio limit was skipped for a numpy max_resource (isinstance int only)."""
    with pytest.raises(InvalidArgumentError, match="max_resource must be at most"):
        samplers.DEHBSampler(min_resource=np.int64(1), max_resource=np.int64(10**12))
    with pytest.raises(InvalidArgumentError, match="max_retry"):
        ferrotune.storages.RetryHeartbeatStaleTrialCallback(max_retry=True)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "build",
    [
        lambda: pruners.HyperbandPruner(min_resource=10, max_resource=5),
        lambda: samplers.DEHBSampler(min_resource=10, max_resource=5),
    ],
)
def test_a_max_resource_below_min_resource_is_refused_when_built(build: Any) -> None:
    """Hyperband took it and never pruned (its docstring: checked when built)."""
    with pytest.raises(InvalidArgumentError, match=r"max_resource \(5\) must be at least"):
        build()


@pytest.mark.parametrize(
    "make",
    [
        lambda b: samplers.AutoSampler(trust_region=b),
        lambda b: samplers.GPSampler(deterministic_objective=b),
        lambda b: samplers.GPSampler(input_warping=b),
        lambda b: samplers.GPSampler(trust_region=b),
        lambda b: samplers.RFSampler(log_y=b),
        lambda b: samplers.CmaEsSampler(with_margin=b),
        lambda b: samplers.BOHBSampler(magic_clip=b),
        lambda b: samplers.TPESampler(multivariate=b),
        lambda b: samplers.TPESampler(warn_independent_sampling=b),
    ],
)
def test_numpy_booleans_are_taken_as_flags_by_every_sampler(make: Any) -> None:
    # One sampler refused np.bool_(True) with "must be a bool, got True" while another
    # took it.
    make(np.bool_(True))
    make(np.bool_(False))
    with pytest.raises(InvalidArgumentError):
        make("yes")


@pytest.mark.parametrize("step", [np.float16(5.0), np.float32(5.0), np.float64(5.0), np.int8(5)])
def test_report_takes_a_whole_numpy_float_of_any_width_as_its_step(step: Any) -> None:
    # np.float32(5.0) was refused ("step must be an int") where np.float64(5.0) was taken.
    study = ferrotune.create_study()
    trial = study.ask()
    trial.report(1.0, step)
    assert trial.should_prune() is False
    study.tell(trial, 1.0)
    assert study.trials[0].intermediate_values == {5: 1.0}
    with pytest.raises(InvalidArgumentError, match="step"):
        study.ask().report(1.0, np.float32(4.5))
