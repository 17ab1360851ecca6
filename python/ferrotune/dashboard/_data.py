"""What the dashboard's JSON API answers: plain data read from a storage.

Every function here only reads; the study is found by its integer id, which the web
layer has parsed, so nothing a request sends reaches the storage as text.
"""

from __future__ import annotations

import threading
import warnings
from typing import Any

import ferrotune
from ferrotune.cli._output import plain
from ferrotune.storages import BaseStorage
from ferrotune.study import StudyDirection

#: The figures the dashboard draws: name in the URL -> function of ferrotune.visualization.
FIGURES = {
    "history": "plot_optimization_history",
    "intermediate": "plot_intermediate_values",
    "parallel": "plot_parallel_coordinate",
    "importance": "plot_param_importances",
    "pareto": "plot_pareto_front",
    "timeline": "plot_timeline",
}
#: Figures for one objective only, and for several only.
SINGLE_OBJECTIVE = {"intermediate"}
MULTI_OBJECTIVE = {"pareto"}
#: Figures that draw the first objective of a study with several.
FIRST_OBJECTIVE = {"history", "parallel", "importance"}


def _first_objective(trial: ferrotune.FrozenTrial) -> float:
    return trial.values[0] if trial.values else float("nan")


def _first_objective_negated(trial: ferrotune.FrozenTrial) -> float:
    return -_first_objective(trial)


class UnknownStudyError(LookupError):
    """No study of that id in the storage (the web layer answers 404)."""


class Reader:
    """Reads one storage for the dashboard; one lock keeps requests from running storage
    calls concurrently (the web server answers from a thread pool)."""

    def __init__(self, storage: BaseStorage) -> None:
        self.storage = storage
        self._lock = threading.Lock()
        self._studies: dict[int, ferrotune.Study] = {}

    def _study(self, study_id: int) -> ferrotune.Study:
        """The study of that id (cached; its trials are re-read from the storage)."""
        names = {
            self.storage.get_study_id_from_name(n): n for n in self.storage.get_all_study_names()
        }
        if study_id not in names:
            self._studies.pop(study_id, None)
            raise UnknownStudyError(f"no study with id {study_id}")
        study = self._studies.get(study_id)
        if study is None or study.study_name != names[study_id]:
            # A random sampler: the dashboard never asks for trials, so building a
            # model-based sampler would be wasted work.
            study = ferrotune.load_study(
                study_name=names[study_id],
                storage=self.storage,
                sampler=ferrotune.samplers.RandomSampler(),
            )
            self._studies[study_id] = study
        return study

    def studies(self) -> list[dict[str, Any]]:
        with self._lock:
            summaries = [
                (self.storage.get_study_id_from_name(s.study_name), s)
                for s in ferrotune.get_all_study_summaries(self.storage, include_best_trial=True)
            ]
        return [
            plain(
                {
                    "study_id": study_id,
                    "name": s.study_name,
                    "directions": [d.name for d in s.directions],
                    "n_trials": s.n_trials,
                    "best_value": s.best_trial.value if s.best_trial is not None else None,
                    "datetime_start": s.datetime_start,
                }
            )
            for study_id, s in summaries
        ]

    def summary(self, study_id: int) -> dict[str, Any]:
        with self._lock:
            study = self._study(study_id)
            trials = study.trials
            best = study.best_trials
            directions = study.directions
            metric_names = study.metric_names
        counts: dict[str, int] = {}
        for t in trials:
            counts[t.state.name] = counts.get(t.state.name, 0) + 1
        single = len(directions) == 1
        best_value = None
        if single and best:
            pick = min if directions[0] == StudyDirection.MINIMIZE else max
            best_value = pick(t.values[0] for t in best if t.values)
        answer: dict[str, Any] = plain(
            {
                "study_id": study_id,
                "name": study.study_name,
                "directions": [d.name for d in directions],
                "metric_names": metric_names,
                "n_trials": len(trials),
                "states": counts,
                "best_value": best_value,
                "best_trials": sorted(t.number for t in best),
                "params": sorted({k for t in trials for k in t.params}),
                "figures": [
                    k
                    for k in FIGURES
                    if k not in (MULTI_OBJECTIVE if single else SINGLE_OBJECTIVE)
                    and (k != "intermediate" or any(t.intermediate_values for t in trials))
                ],
            }
        )
        return answer

    def trials(self, study_id: int, offset: int, limit: int) -> dict[str, Any]:
        """Trials ``offset`` .. ``offset + limit`` (the page asks for the new ones only,
        and again for those it saw still running)."""
        with self._lock:
            study = self._study(study_id)
            n = len(study.get_trial_states())
            stop = min(n, offset + limit)
            frozen = study.get_trials_from(offset, stop) if offset < stop else []
        rows = [
            {
                "number": t.number,
                "state": t.state.name,
                "values": t.values,
                "params": t.params,
                "user_attrs": t.user_attrs,
                "n_intermediate": len(t.intermediate_values),
                "datetime_start": t.datetime_start,
                "datetime_complete": t.datetime_complete,
                "duration": t.duration.total_seconds() if t.duration is not None else None,
            }
            for t in frozen
        ]
        answer: dict[str, Any] = plain({"n_trials": n, "offset": offset, "trials": rows})
        return answer

    def figure(self, study_id: int, kind: str) -> dict[str, Any]:
        """``{"figure": plotly JSON}``, or ``{"unavailable": why}`` when the figure cannot
        be drawn (no plotting package, no importance evaluator, too few trials)."""
        import json

        with self._lock:
            study = self._study(study_id)
            try:
                import ferrotune.visualization as visualization
            except ImportError:
                return {"unavailable": "plots unavailable: pip install 'ferrotune[plot]'"}
            try:
                kwargs: dict[str, Any] = {}
                if len(study.directions) > 1 and kind in FIRST_OBJECTIVE:
                    kwargs = {"target": _first_objective, "target_name": "Objective 0"}
                    if kind == "importance" and study.directions[0].name == "MAXIMIZE":
                        # An evaluator given a target scores what makes it low, as in
                        # ``ferrotune report``.
                        kwargs["target"] = _first_objective_negated
                with warnings.catch_warnings():
                    # PED-ANOVA's notice that it scores low target values (see above).
                    warnings.filterwarnings("ignore", message=".*to achieve low `target` values")
                    fig = getattr(visualization, FIGURES[kind])(study, **kwargs)
                text = fig.to_json()
            except Exception as e:  # a figure it cannot draw is shown as a message
                what = "importance" if kind == "importance" else "this plot"
                return {"unavailable": f"{what} unavailable: {e}"}
        return {"figure": json.loads(text)}

    def delete_study(self, study_id: int) -> None:
        with self._lock:
            study = self._study(study_id)
            ferrotune.delete_study(study_name=study.study_name, storage=self.storage)
            self._studies.pop(study_id, None)

    def fail_trial(self, study_id: int, number: int) -> None:
        """Marks a RUNNING trial FAIL (a worker that died without telling it)."""
        with self._lock:
            study = self._study(study_id)
            study.tell(number, state=ferrotune.TrialState.FAIL)
