"""Hand-made histories for the pruner tests."""

from __future__ import annotations

import ferrotune
from ferrotune.pruners import BasePruner
from ferrotune.trial import TrialState


def study_with(
    pruner: BasePruner,
    finished: list[dict[int, float]],
    *,
    direction: str = "minimize",
    state: TrialState = TrialState.COMPLETE,
) -> ferrotune.Study:
    """A study whose first trials reported ``finished[i]`` ({step: value}) and ended in
    ``state`` (COMPLETE with value 0.0)."""
    study = ferrotune.create_study(direction=direction, pruner=pruner)
    add(study, finished, state)
    return study


def add(study: ferrotune.Study, finished: list[dict[int, float]], state: TrialState) -> None:
    """Adds finished trials that reported the given {step: value}."""
    for values in finished:
        t = study.ask()
        for step, v in values.items():
            t.report(v, step)
        study.tell(t, 0.0 if state == TrialState.COMPLETE else None, state=state)


def decisions(study: ferrotune.Study, reports: list[tuple[int, float]]) -> list[bool]:
    """``should_prune()`` after each (step, value) a new running trial reports."""
    t = study.ask()
    out = []
    for step, v in reports:
        t.report(v, step)
        out.append(t.should_prune())
    return out
