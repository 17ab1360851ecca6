"""A subclass of a shipped pruner or sampler that overrides one of Optuna's hooks gets it
called, as Optuna's study calls it: the Rust fast path must not skip a user's ``prune``,
``sample_independent``, ``before_trial`` or ``after_trial``."""

from __future__ import annotations

from typing import Any

import pytest

import ferrotune
from ferrotune.pruners import (
    HyperbandPruner,
    MedianPruner,
    NopPruner,
    PatientPruner,
    SuccessiveHalvingPruner,
    ThresholdPruner,
)
from ferrotune.samplers import BOHBSampler, RandomSampler, TPESampler


class VetoEarly(MedianPruner):
    """Median rule, never before step 5 (a guard an Optuna user adds by subclassing)."""

    calls = 0

    def prune(self, study: Any, trial: Any) -> bool:
        type(self).calls += 1
        return trial.last_step >= 5 and super().prune(study, trial)


def _first_prunes(study: ferrotune.Study, values: list[float]) -> int | None:
    """Reports ``values`` step by step on a new trial; the step it is pruned at."""
    trial = study.ask()
    for step, v in enumerate(values):
        trial.report(v, step)
        if trial.should_prune():
            study.tell(trial, state=ferrotune.TrialState.PRUNED)
            return step
    study.tell(trial, values[-1])
    return None


def test_an_overridden_prune_of_a_shipped_pruner_is_called() -> None:
    VetoEarly.calls = 0
    study = ferrotune.create_study(pruner=VetoEarly(n_startup_trials=1, n_warmup_steps=0))
    assert _first_prunes(study, [0.0] * 8) is None
    # The plain MedianPruner prunes this one at step 0; the veto holds it to step 5.
    plain = ferrotune.create_study(pruner=MedianPruner(n_startup_trials=1))
    _first_prunes(plain, [0.0] * 8)
    assert _first_prunes(plain, [9.0] * 8) == 0
    assert _first_prunes(study, [9.0] * 8) == 5
    assert VetoEarly.calls >= 6


@pytest.mark.parametrize("answer", [True, False])
@pytest.mark.parametrize(
    ("base", "kwargs"),
    [(NopPruner, {}), (ThresholdPruner, {"upper": 1.0}), (HyperbandPruner, {"max_resource": 9})],
    ids=["nop", "threshold", "hyperband"],
)
def test_the_subclass_answer_wins(base: type, kwargs: dict[str, Any], answer: bool) -> None:
    class Fixed(base):  # type: ignore[misc, valid-type]
        def prune(self, study: Any, trial: Any) -> bool:
            return answer

    study = ferrotune.create_study(pruner=Fixed(**kwargs))
    for _ in range(4):
        # Value 5 is above ThresholdPruner's upper bound: it would prune at once.
        pruned_at = _first_prunes(study, [5.0] * 9)
        assert (pruned_at == 0) if answer else (pruned_at is None)


@pytest.mark.parametrize("cls", [HyperbandPruner, SuccessiveHalvingPruner])
def test_super_prune_of_a_rung_pruner_decides_as_the_pruner(cls: type) -> None:
    """A subclass that only wraps ``super().prune`` prunes exactly as the pruner does."""

    class Logged(cls):  # type: ignore[misc, valid-type]
        calls = 0

        def prune(self, study: Any, trial: Any) -> bool:
            type(self).calls += 1
            return bool(super().prune(study, trial))

    kwargs: dict[str, Any] = {"min_resource": 1, "reduction_factor": 3}
    if cls is HyperbandPruner:
        kwargs["max_resource"] = 27

    def run(pruner: Any) -> list[int | None]:
        study = ferrotune.create_study(
            study_name="rungs", sampler=RandomSampler(seed=3), pruner=pruner
        )
        out = []
        for _ in range(40):
            trial = study.ask()
            x = trial.suggest_float("x", 0.0, 1.0)
            at = None
            for step in range(1, 28):
                trial.report(x + 1.0 / step, step)
                if trial.should_prune():
                    at = step
                    break
            study.tell(trial, None if at else x, state=ferrotune.TrialState.PRUNED if at else None)
            out.append(at)
        return out

    plain = run(cls(**kwargs))
    logged = run(Logged(**kwargs))
    assert logged == plain
    assert any(at is not None for at in plain), "nothing was pruned"
    assert Logged.calls > 40


def test_rung_prune_for_another_study_is_refused() -> None:
    pruner = SuccessiveHalvingPruner()
    other = ferrotune.create_study()
    trial = other.ask()
    trial.report(1.0, 1)
    with pytest.raises(NotImplementedError, match="whose pruner it is"):
        pruner.prune(other, other.trials[0])


def test_patient_pruner_asks_a_wrapped_subclass() -> None:
    class Never(MedianPruner):
        def prune(self, study: Any, trial: Any) -> bool:
            return False

    study = ferrotune.create_study(pruner=PatientPruner(Never(n_startup_trials=0), patience=0))
    _first_prunes(study, [0.0] * 5)
    # Stalled at once (patience 0) and worse than the median: only the wrapped "never"
    # keeps it running.
    assert _first_prunes(study, [1.0, 2.0, 3.0, 4.0, 5.0]) is None


@pytest.mark.parametrize(
    "make", [TPESampler, RandomSampler, BOHBSampler], ids=["tpe", "random", "bohb"]
)
def test_overridden_sampler_hooks_are_called(make: Any) -> None:
    calls: list[str] = []

    class Pinned(make):  # type: ignore[misc, valid-type]
        def sample_independent(self, study: Any, trial: Any, name: str, dist: Any) -> Any:
            calls.append("independent")
            if name == "x":
                return 0.123
            return super().sample_independent(study, trial, name, dist)

        def before_trial(self, study: Any, trial: Any) -> None:
            calls.append("before")
            super().before_trial(study, trial)

        def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
            calls.append("after")
            super().after_trial(study, trial, state, values)

    study = ferrotune.create_study(sampler=Pinned(seed=0))

    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        y = trial.suggest_float("y", 0.0, 1.0)
        assert 0.0 <= y <= 1.0
        return x + y

    study.optimize(objective, n_trials=5)
    assert [t.params["x"] for t in study.trials] == [0.123] * 5
    assert calls.count("before") == 5 and calls.count("after") == 5
    assert calls.count("independent") >= 5


def test_overridden_hooks_are_called_behind_partial_fixed_sampler() -> None:
    calls: list[str] = []

    class Logged(TPESampler):
        def sample_independent(self, study: Any, trial: Any, name: str, dist: Any) -> Any:
            calls.append("independent")
            return super().sample_independent(study, trial, name, dist)

        def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
            calls.append("after")
            super().after_trial(study, trial, state, values)

    sampler = ferrotune.samplers.PartialFixedSampler({"y": 0.5}, Logged(seed=0))
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_float("y", 0, 1), n_trials=4)
    assert all(t.params["y"] == 0.5 for t in study.trials)
    assert calls.count("after") == 4 and calls.count("independent") >= 4
