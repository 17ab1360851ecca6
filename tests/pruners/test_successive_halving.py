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
from ferrotune.pruners import SuccessiveHalvingPruner
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
