"""The Rust pruners decide as a plain Python reference computed from
``study.get_trials()`` (numpy's ``nanpercentile``), on random histories, at every
report of every trial; and as their own ``prune(study, trial)``."""

from __future__ import annotations

import math
import warnings

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import ferrotune
from ferrotune.pruners import BasePruner, PatientPruner, PercentilePruner, ThresholdPruner
from ferrotune.trial import FrozenTrial, TrialState

STATES = [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL]
values = st.one_of(st.sampled_from([0.0, 1.0, 2.0, math.nan]), st.floats(-3, 3))
trials = st.lists(
    st.tuples(
        st.sampled_from(STATES),
        st.lists(st.tuples(st.integers(0, 6), values), max_size=6),
    ),
    max_size=14,
)


def _first_in_interval(step: int, steps: list[int], warm: int, interval: int) -> bool:
    check = (step - warm) // interval * interval + warm
    return max([s for s in steps if s != step], default=-1) < check


def _best(vals: list[float], maximize: bool) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        arr = np.asarray(vals, dtype=float)
        return float(np.nanmax(arr) if maximize else np.nanmin(arr))


def ref_percentile(p: PercentilePruner, study: ferrotune.Study, t: FrozenTrial) -> bool:
    complete = [x for x in study.get_trials() if x.state == TrialState.COMPLETE]
    iv = t.intermediate_values
    if not complete or len(complete) < p._n_startup_trials or not iv:
        return False
    step = max(iv)
    if step < p._n_warmup_steps:
        return False
    if not _first_in_interval(step, list(iv), p._n_warmup_steps, p._interval_steps):
        return False
    maximize = study.direction == ferrotune.StudyDirection.MAXIMIZE
    best = _best(list(iv.values()), maximize)
    if math.isnan(best):
        return True
    at = np.array([x.intermediate_values[step] for x in complete if step in x.intermediate_values])
    if len(at) < p._n_min_trials or np.isnan(at).all():
        return False
    q = 100 - p._percentile if maximize else p._percentile
    cut = float(np.nanpercentile(at, q))
    return best < cut if maximize else best > cut


def ref_threshold(p: ThresholdPruner, study: ferrotune.Study, t: FrozenTrial) -> bool:
    iv = t.intermediate_values
    if not iv or max(iv) < p._n_warmup_steps:
        return False
    step = max(iv)
    if not _first_in_interval(step, list(iv), p._n_warmup_steps, p._interval_steps):
        return False
    v = iv[step]
    return math.isnan(v) or not p._lower <= v <= p._upper


def ref_patient(p: PatientPruner, study: ferrotune.Study, t: FrozenTrial) -> bool:
    iv = t.intermediate_values
    steps = sorted(iv)
    if len(steps) <= p._patience + 1:
        return False
    maximize = study.direction == ferrotune.StudyDirection.MAXIMIZE
    cut = len(steps) - p._patience - 1
    before = _best([iv[s] for s in steps[:cut]], maximize)
    after = _best([iv[s] for s in steps[cut:]], maximize)
    d = p._min_delta
    stalled = before - d > after if maximize else before + d < after
    inner = p._wrapped_pruner
    if not stalled:
        return False
    return True if inner is None else REFS[type(inner)](inner, study, t)


REFS = {
    PercentilePruner: ref_percentile,
    ThresholdPruner: ref_threshold,
    PatientPruner: ref_patient,
}

percentile_pruners = st.builds(
    PercentilePruner,
    st.sampled_from([0.0, 25.0, 50.0, 80.0, 100.0]),
    st.integers(0, 4),
    st.integers(0, 3),
    st.integers(1, 3),
    n_min_trials=st.integers(1, 3),
)
pruners = st.one_of(
    percentile_pruners,
    st.builds(ThresholdPruner, st.just(-1.0), st.just(1.5), st.integers(0, 2), st.integers(1, 3)),
    st.builds(
        PatientPruner,
        st.one_of(st.none(), percentile_pruners),
        st.integers(0, 2),
        st.sampled_from([0.0, 0.5]),
    ),
)


@given(pruner=pruners, history=trials, maximize=st.booleans())
def test_rust_pruners_agree_with_the_reference(
    pruner: BasePruner, history: list[tuple[TrialState, list[tuple[int, float]]]], maximize: bool
) -> None:
    study = ferrotune.create_study(direction="maximize" if maximize else "minimize", pruner=pruner)
    assert study._trial_context.rust_pruner
    ref = REFS[type(pruner)]
    for state, reports in history:
        trial = study.ask()
        for step, v in reports:
            trial.report(v, step)
            frozen = study.get_trials()[trial.number]
            expected = ref(pruner, study, frozen)  # type: ignore[arg-type]
            assert trial.should_prune() == expected
            assert pruner.prune(study, frozen) == expected
        study.tell(trial, 0.0 if state == TrialState.COMPLETE else None, state=state)
