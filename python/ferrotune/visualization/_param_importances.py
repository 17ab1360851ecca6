"""plot_param_importances: a bar per parameter, from ferrotune.importance."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ferrotune.importance import BaseImportanceEvaluator, get_param_importances
from ferrotune.study import Study
from ferrotune.visualization import _imports
from ferrotune.visualization._data import check_plot_args, complete_finite, logger

if TYPE_CHECKING:
    from ferrotune.trial import FrozenTrial


@dataclass(frozen=True)
class ImportanceInfo:
    """One objective's importances, smallest first (the bar chart's bottom-up order)."""

    values: list[float]
    names: list[str]
    labels: list[str]
    target_name: str
    distributions: list[str]


def _one(
    study: Study,
    evaluator: BaseImportanceEvaluator | None,
    params: list[str] | None,
    target: Callable[[FrozenTrial], float] | None,
    target_name: str,
) -> ImportanceInfo:
    table, _ = complete_finite(study, target)
    if len(table) == 0:
        logger.warning("Study instance does not contain completed trials.")
        return ImportanceInfo([], [], [], target_name, [])
    scores = get_param_importances(study, evaluator=evaluator, params=params, target=target)
    names = list(reversed(scores))
    values = [scores[n] for n in names]
    labels = [f"{v:.2f}" if v >= 0.01 else "<0.01" for v in values]
    kinds = [
        type(table.params[n].distribution).__name__ if n in table.params else "" for n in names
    ]
    return ImportanceInfo(values, names, labels, target_name, kinds)


def importance_infos(
    study: Study,
    evaluator: BaseImportanceEvaluator | None,
    params: list[str] | None,
    target: Callable[[FrozenTrial], float] | None,
    target_name: str,
) -> list[ImportanceInfo]:
    """One bar group per objective for a study with several objectives and no target
    (named by ``set_metric_names`` where set), else one."""
    metric_names = study.metric_names
    if target is not None or len(study.directions) == 1:
        check_plot_args(study, target, target_name)
        name = metric_names[0] if metric_names is not None and target is None else target_name
        return [_one(study, evaluator, params, target, name)]
    names = metric_names or [f"{target_name} {i}" for i in range(len(study.directions))]
    out = []
    for i, name in enumerate(names):

        def objective(t: FrozenTrial, i: int = i) -> float:
            values = t.values
            assert values is not None  # COMPLETE trials only
            return values[i]

        out.append(_one(study, evaluator, params, objective, name))
    return out


def plot_param_importances(
    study: Study,
    evaluator: BaseImportanceEvaluator | None = None,
    params: list[str] | None = None,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = "Objective Value",
) -> Any:
    """Plot each parameter's importance as a horizontal bar (Optuna's plot).

    The importances come from :func:`ferrotune.importance.get_param_importances`
    (normalised to sum to one), largest at the top, each labelled with its value.

    Args:
        study: The study (its COMPLETE trials are evaluated).
        evaluator: The importance algorithm; ``None`` uses
            :func:`~ferrotune.importance.get_param_importances`' default.
        params: The parameters to assess (default: the evaluator's choice).
        target: Maps a trial to the value assessed. For a study with several objectives
            and no target, each objective gets its own bars.
        target_name: The bars' legend name (the study's metric names take precedence when
            ``target`` is None).

    Returns:
        A ``plotly.graph_objects.Figure``.
    """
    go = _imports.go()
    infos = importance_infos(study, evaluator, params, target, target_name)
    layout = go.Layout(
        title="Hyperparameter Importances",
        xaxis={"title": "Hyperparameter Importance"},
        yaxis={"title": "Hyperparameter"},
    )
    bars = [
        go.Bar(
            x=info.values,
            y=info.names,
            name=info.target_name,
            text=info.labels,
            textposition="outside",
            cliponaxis=False,
            hovertemplate=[
                f"{n} ({d}): {v}<extra></extra>"
                for n, d, v in zip(info.names, info.distributions, info.values, strict=True)
            ],
            orientation="h",
        )
        for info in infos
        if info.values
    ]
    return go.Figure(bars, layout)
