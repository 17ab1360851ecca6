"""SuccessiveHalvingPruner: a hand-computed rung schedule, the same decisions as
Optuna's pruner on random sequences, arguments, pickling and optimize()."""

from __future__ import annotations

import math
import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrotune
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.pruners import HyperbandPruner, SuccessiveHalvingPruner
from ferrotune.trial import TrialState


def run(lib: Any, study: Any, value: float, max_step: int) -> tuple[int, bool]:
    """A trial reporting ``value`` at steps 1..max_step, checked after each report and
    stopped when pruned: (last step, pruned)."""
    t = study.ask()
    for s in range(1, max_step + 1):
        t.report(value, s)
        if t.should_prune():
            study.tell(t, state=lib.trial.TrialState.PRUNED)
            return s, True
    study.tell(t, value)
    return max_step, False


def test_hand_computed_schedule() -> None:
    # min_resource 1, eta 2: rungs at steps 1, 2, 4, 8. At a rung holding n values, a
    # value goes on when it is among the best max(n // 2, 1).
    study = ferrotune.create_study(pruner=SuccessiveHalvingPruner(1, 2))
    got = [run(ferrotune, study, v, 10) for v in (5.0, 3.0, 4.0, 1.0, 2.0, 2.5)]
    # 5, 3: best so far everywhere. 4: rung 0 {3,4,5}, best 1 -> pruned at step 1.
    # 1: best. 2: rung 0 {1..5}: best 2 -> kept; rungs 1-3 {1,2,3,5}: best 2 -> kept.
    # 2.5: rung 0 {1,2,2.5,3,4,5}: best 3 -> kept; rung 1 {1,2,2.5,3,5}: best 2 -> pruned.
    assert got == [(10, False), (10, False), (1, True), (10, False), (10, False), (2, True)]


def test_early_stopping_rate_bootstrap_and_direction() -> None:
    # min_resource 2, eta 3, s 1: rungs at 6, 18; the first two values at a rung are pruned.
    study = ferrotune.create_study(pruner=SuccessiveHalvingPruner(2, 3, 1, 2))
    assert [run(ferrotune, study, v, 20) for v in (1.0, 1.0, 0.5)] == [
        (6, True),
        (6, True),
        (18, True),
    ]
    study = ferrotune.create_study(direction="maximize", pruner=SuccessiveHalvingPruner(1, 2))
    assert [run(ferrotune, study, v, 4) for v in (1.0, 0.5, 2.0, math.nan)] == [
        (4, False),
        (1, True),
        (4, False),
        (1, True),
    ]


def test_auto_min_resource_waits_for_a_complete_trial() -> None:
    study = ferrotune.create_study(pruner=SuccessiveHalvingPruner())
    t = study.ask()
    for s in range(1, 400):
        t.report(float(s), s)
        assert not t.should_prune()  # no COMPLETE trial yet: never pruned
    study.tell(t, 0.0)
    # The last step 399 // 100 = 3 is the first rung. The first trial recorded no rung
    # value: the next one is alone at step 3 and goes on; a worse one is pruned there.
    assert run(ferrotune, study, 5.0, 10) == (10, False)
    assert run(ferrotune, study, 1000.0, 10) == (3, True)


sequences = st.lists(
    st.tuples(st.sampled_from([0.0, 1.0, 2.0, 3.0, math.nan]), st.integers(1, 12)),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40)
@given(
    seq=sequences,
    args=st.tuples(st.integers(1, 3), st.integers(2, 4), st.integers(0, 1), st.integers(0, 2)),
    maximize=st.booleans(),
)
def test_same_decisions_as_optuna(
    seq: list[tuple[float, int]], args: tuple[int, int, int, int], maximize: bool
) -> None:
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    direction = "maximize" if maximize else "minimize"
    ours = ferrotune.create_study(direction=direction, pruner=SuccessiveHalvingPruner(*args))
    theirs = optuna.create_study(
        direction=direction, pruner=optuna.pruners.SuccessiveHalvingPruner(*args)
    )
    for value, steps in seq:
        assert run(ferrotune, ours, value, steps) == run(optuna, theirs, value, steps)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"min_resource": 0}, "min_resource"),
        ({"min_resource": "often"}, "min_resource"),
        ({"reduction_factor": 1}, "reduction_factor"),
        ({"min_early_stopping_rate": -1}, "min_early_stopping_rate"),
        ({"bootstrap_count": -1}, "bootstrap_count"),
        ({"bootstrap_count": 1}, "bootstrap_count"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidArgumentError, match=name):
        SuccessiveHalvingPruner(**kwargs)


def test_pickling_keeps_the_arguments() -> None:
    p = SuccessiveHalvingPruner(2, 3, 1, 1)
    copy = pickle.loads(pickle.dumps(p))
    assert repr(copy) == repr(p)
    study = ferrotune.create_study(pruner=copy)
    assert [run(ferrotune, study, v, 20) for v in (1.0, 0.5)] == [(6, True), (18, True)]


def test_optimize_records_pruned_trials() -> None:
    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        for step in range(1, 28):
            trial.report(x + 1.0 / step, step)
            if trial.should_prune():
                raise ferrotune.TrialPruned()
        return x

    study = ferrotune.create_study(
        sampler=ferrotune.samplers.RandomSampler(seed=3),
        pruner=SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
    )
    study.optimize(objective, n_trials=40)
    pruned = study.get_trials(states=(TrialState.PRUNED,))
    assert len(pruned) >= 10
    # Pruned only at a rung: steps 1, 3, 9, 27.
    assert {t.last_step for t in pruned} <= {1, 3, 9, 27}


# ------------------------------------------------------------------------ Hyperband


def test_hyperband_brackets_by_hand() -> None:
    # min 1, max 9, eta 3: brackets 0, 1, 2 with first rungs at steps 1, 3, 9, and
    # shares ceil(3 * 9 / 3) = 9, ceil(3 * 3 / 2) = 5, ceil(3 / 1) = 3 of every 17 trials.
    study = ferrotune.create_study(
        study_name="hb", pruner=HyperbandPruner(min_resource=1, max_resource=9)
    )
    pruned_at = [run(ferrotune, study, 100.0 - i, 9) for i in range(3)]
    # Each trial is better than the previous ones: never pruned.
    assert all(not p for _, p in pruned_at)
    # Worse trials are pruned at their bracket's first rung (1, 3 or 9), never elsewhere.
    steps = {run(ferrotune, study, 1000.0, 9)[0] for _ in range(40)}
    assert steps <= {1, 3, 9} and len(steps) >= 2


@settings(max_examples=30)
@given(
    seq=sequences,
    args=st.tuples(st.integers(1, 2), st.integers(4, 30), st.integers(2, 4), st.integers(0, 2)),
    maximize=st.booleans(),
)
def test_hyperband_same_decisions_as_optuna(
    seq: list[tuple[float, int]], args: tuple[int, int, int, int], maximize: bool
) -> None:
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    direction = "maximize" if maximize else "minimize"
    ours = ferrotune.create_study(
        study_name="same", direction=direction, pruner=HyperbandPruner(*args)
    )
    theirs = optuna.create_study(
        study_name="same",
        direction=direction,
        sampler=optuna.samplers.RandomSampler(seed=0),
        pruner=optuna.pruners.HyperbandPruner(*args),
    )
    for value, steps in seq:
        assert run(ferrotune, ours, value, steps) == run(optuna, theirs, value, steps)


def test_hyperband_auto_and_arguments() -> None:
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    ours = ferrotune.create_study(study_name="auto", pruner=HyperbandPruner())
    theirs = optuna.create_study(study_name="auto", pruner=optuna.pruners.HyperbandPruner())
    for value, steps in [(5.0, 30), (6.0, 30), (1.0, 30), (9.0, 30), (2.0, 12)] * 4:
        assert run(ferrotune, ours, value, steps) == run(optuna, theirs, value, steps)
    for kwargs, name in [
        ({"min_resource": 0}, "min_resource"),
        ({"max_resource": "big"}, "max_resource"),
        ({"reduction_factor": 1}, "reduction_factor"),
        ({"bootstrap_count": 1}, "bootstrap_count"),
    ]:
        with pytest.raises(InvalidArgumentError, match=name):
            HyperbandPruner(**kwargs)  # type: ignore[arg-type]
    copy = pickle.loads(pickle.dumps(HyperbandPruner(2, 20)))
    assert repr(copy) == repr(HyperbandPruner(2, 20))
