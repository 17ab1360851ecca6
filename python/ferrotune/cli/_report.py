"""``ferrotune plot KIND`` (one figure of ferrotune.visualization, as HTML or PNG) and
``ferrotune report`` (a self-contained HTML page: every relevant figure of a study, its
best trials and its parameter importances, with plotly.js inlined so that it opens
without a network)."""

from __future__ import annotations

import argparse
import datetime
import html
import math
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import ferrotune
from ferrotune.cli._output import plain
from ferrotune.cli._storage import close_storage, open_storage
from ferrotune.exceptions import CLIUsageError, MissingDependencyError
from ferrotune.study import StudyDirection
from ferrotune.trial import FrozenTrial, TrialState

#: ``ferrotune plot KIND``: the functions of ferrotune.visualization, without ``plot_``.
KINDS = (
    "optimization_history",
    "intermediate_values",
    "parallel_coordinate",
    "contour",
    "slice",
    "param_importances",
    "edf",
    "rank",
    "pareto_front",
    "hypervolume_history",
    "timeline",
)
_TAKES_PARAMS = {"parallel_coordinate", "contour", "slice", "param_importances", "rank"}
_TAKES_TARGET = _TAKES_PARAMS | {"optimization_history", "edf"}
#: Contour plots of the most important parameters: every pair of this many.
CONTOUR_PARAMS = 3


def add_plot_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=KINDS, metavar="KIND", help=", ".join(KINDS))
    p.add_argument("--study-name", default=None, help="the study (optional when only one)")
    p.add_argument("-o", "--output", required=True, help="file to write: .html or .png")
    p.add_argument("--params", nargs="+", default=None, help="the parameters to draw")
    p.add_argument(
        "--objective",
        type=int,
        default=None,
        help="the objective to draw, by index, for a study with several objectives",
    )
    p.add_argument(
        "--reference-point",
        type=float,
        nargs="+",
        default=None,
        help="hypervolume_history's reference point (default: just beyond the worst values)",
    )


def add_report_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--study-name", default=None, help="the study (optional when only one)")
    p.add_argument("-o", "--output", required=True, help="the HTML file to write")


def _target(study: ferrotune.Study, index: int | None) -> Callable[[FrozenTrial], float] | None:
    n = len(study.directions)
    if index is None:
        return None
    if not 0 <= index < n:
        raise CLIUsageError(f"--objective {index}: the study has {n} objective(s)")

    def target(trial: FrozenTrial) -> float:
        return trial.values[index] if trial.values else math.nan

    return target


def _importance_target(
    study: ferrotune.Study, index: int | None
) -> Callable[[FrozenTrial], float] | None:
    """``_target`` for importances: negated for a maximised objective, since an evaluator
    given a target (PED-ANOVA, the default) scores what makes it *low*."""
    target = _target(study, index)
    if target is None or index is None or study.directions[index] != StudyDirection.MAXIMIZE:
        return target
    plain = target

    def negated(trial: FrozenTrial) -> float:
        return -plain(trial)

    return negated


def reference_point(study: ferrotune.Study) -> list[float]:
    """A hypervolume reference point just beyond the worst value of each objective
    (10% of the range past it), in the study's own directions."""
    values = [t.values for t in study.get_trials(states=(TrialState.COMPLETE,)) if t.values]
    if not values:
        raise CLIUsageError("no complete trial: give --reference-point")
    point = []
    for i, d in enumerate(study.directions):
        column = [v[i] for v in values if math.isfinite(v[i])]
        low, high = (min(column), max(column)) if column else (0.0, 0.0)
        margin = 0.1 * (high - low) or 1.0
        point.append(high + margin if d == StudyDirection.MINIMIZE else low - margin)
    return point


def _figure(study: ferrotune.Study, args: argparse.Namespace) -> Any:
    from ferrotune import visualization

    kind = args.kind
    kwargs: dict[str, Any] = {}
    if args.params is not None:
        if kind not in _TAKES_PARAMS:
            raise CLIUsageError(f"--params does not apply to {kind}")
        kwargs["params"] = args.params
    if args.objective is not None:
        if kind not in _TAKES_TARGET:
            raise CLIUsageError(f"--objective does not apply to {kind}")
        if kind == "param_importances":
            kwargs["target"] = _importance_target(study, args.objective)
        else:
            kwargs["target"] = _target(study, args.objective)
        kwargs["target_name"] = f"Objective {args.objective}"
    elif (
        kind in _TAKES_TARGET
        and kind not in ("param_importances", "parallel_coordinate")  # every objective
        and len(study.directions) > 1
    ):
        raise CLIUsageError(
            f"{kind}: the study has {len(study.directions)} objectives; choose one with "
            "--objective I"
        )
    if kind == "hypervolume_history" and len(study.directions) < 2:
        raise CLIUsageError(
            "hypervolume_history: the study has one objective; it needs several "
            "(plot optimization_history instead)"
        )
    if kind == "hypervolume_history":
        kwargs["reference_point"] = args.reference_point or reference_point(study)
    elif args.reference_point is not None:
        raise CLIUsageError(f"--reference-point does not apply to {kind}")
    return getattr(visualization, f"plot_{kind}")(study, **kwargs)


def write_figure(fig: Any, path: str) -> None:
    """``fig`` to ``path``: a self-contained HTML page, or a PNG (needs kaleido)."""
    lower = path.lower()
    if lower.endswith((".html", ".htm")):
        fig.write_html(path, include_plotlyjs=True, full_html=True)
    elif lower.endswith(".png"):
        try:
            fig.write_image(path)
        except (ImportError, ValueError, RuntimeError) as e:
            if "kaleido" in str(e).lower() or isinstance(e, ImportError):
                raise MissingDependencyError(
                    f"a PNG needs kaleido and a Chrome or Chromium ({e}): pip install kaleido, "
                    "or write .html"
                ) from e
            raise
    else:
        raise CLIUsageError(f"-o {path!r}: write a .html or a .png file")


def _load(args: argparse.Namespace) -> tuple[Any, ferrotune.Study]:
    from ferrotune.cli._study import _load as load_study

    storage = open_storage(args.storage, args.storage_class)
    return storage, load_study(storage, args, sampler=ferrotune.samplers.RandomSampler())


def plot(args: argparse.Namespace) -> int:
    storage, study = _load(args)
    try:
        fig = _figure(study, args)
        write_figure(fig, args.output)
    finally:
        close_storage(storage)
    print(f"wrote {args.kind} of {study.study_name!r} to {args.output}", file=sys.stderr)
    return 0


def report(args: argparse.Namespace) -> int:
    if not args.output.lower().endswith((".html", ".htm")):
        raise CLIUsageError(f"-o {args.output!r}: the report is an .html file")
    storage, study = _load(args)
    try:
        page = build_report(study)
    finally:
        close_storage(storage)
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(page)
    print(f"wrote the report of {study.study_name!r} to {args.output}", file=sys.stderr)
    return 0


# ------------------------------------------------------------------------ the report
def _importances(study: ferrotune.Study, index: int | None) -> dict[str, float] | str:
    """The parameter importances, or why there are none."""
    from ferrotune.importance import get_param_importances

    try:
        target = None if index is None else _importance_target(study, index)
        with warnings.catch_warnings():
            # PED-ANOVA's notice that a target is scored for low values: the target is
            # negated above for a maximised objective.
            warnings.filterwarnings("ignore", message=".*to achieve low `target` values")
            return dict(get_param_importances(study, target=target))
    except Exception as e:  # shown in the report as a sentence
        return f"importance unavailable: {' '.join(str(e).split())}"


def _figures(
    study: ferrotune.Study, importances: dict[str, float] | str
) -> list[tuple[str, str, Callable[[], Any]]]:
    """(id, title, drawing function) of every figure relevant to the study."""
    from ferrotune import visualization as vis

    trials = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    params = list(dict.fromkeys(p for t in trials for p in t.params))
    ranked = list(importances) if isinstance(importances, dict) else params
    top = [p for p in ranked if p in params][:CONTOUR_PARAMS]
    out: list[tuple[str, str, Callable[[], Any]]] = []
    n = len(study.directions)
    if n == 1:
        out.append(
            ("history", "Optimization history", lambda: vis.plot_optimization_history(study))
        )
        if any(t.intermediate_values for t in trials):
            out.append(
                ("intermediate", "Intermediate values", lambda: vis.plot_intermediate_values(study))
            )
        if params:
            out += [
                ("parallel", "Parallel coordinates", lambda: vis.plot_parallel_coordinate(study)),
                ("slice", "Slice", lambda: vis.plot_slice(study)),
            ]
        if len(top) >= 2:
            out.append(("contour", "Contour", lambda: vis.plot_contour(study, params=top)))
        if params:
            out.append(
                ("importance", "Parameter importances", lambda: vis.plot_param_importances(study))
            )
        out += [("edf", "Empirical distribution", lambda: vis.plot_edf(study))]
    else:
        if n <= 3:
            out.append(("pareto", "Pareto front", lambda: vis.plot_pareto_front(study)))
        out.append(
            (
                "hypervolume",
                "Hypervolume history",
                lambda: vis.plot_hypervolume_history(study, reference_point(study)),
            )
        )
        out += [
            (f"history-{i}", f"Optimization history of objective {i}", _history(study, i))
            for i in range(n)
        ]
        if params:
            first = _target(study, 0)
            out.append(
                (
                    "parallel-0",
                    "Parallel coordinates of objective 0",
                    lambda: vis.plot_parallel_coordinate(
                        study, target=first, target_name="Objective 0"
                    ),
                )
            )
    out.append(("timeline", "Timeline", lambda: vis.plot_timeline(study)))
    return out


def _history(study: ferrotune.Study, index: int) -> Callable[[], Any]:
    """Draws the history of one objective of a multi-objective study."""
    from ferrotune import visualization as vis

    target = _target(study, index)
    return lambda: vis.plot_optimization_history(
        study, target=target, target_name=f"Objective {index}"
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], css: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    head = f"<thead><tr>{head}</tr></thead>" if head else ""
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f'<table class="{css}">{head}<tbody>{body}</tbody></table>'


def _cell(v: Any) -> str:
    v = plain(v)
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, list):
        return ", ".join(_cell(x) for x in v)
    return str(v)


def _best_table(study: ferrotune.Study) -> str:
    best = study.best_trials
    if not best:
        return "<p>No trial has completed yet.</p>"
    params = list(dict.fromkeys(p for t in best for p in t.params))
    n = len(study.directions)
    names = study.metric_names or (["value"] if n == 1 else [f"values_{i}" for i in range(n)])
    rows = [[t.number, *(t.values or []), *(t.params.get(p) for p in params)] for t in best]
    return _table(["number", *names, *params], rows, "best")


def _importance_html(importances: dict[str, float] | str) -> str:
    if isinstance(importances, str):
        return f'<p class="note">{html.escape(importances)}</p>'
    rows = [[name, value] for name, value in importances.items()]
    return _table(["parameter", "importance"], rows, "importance")


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccd;padding:.2em .6em}
th{background:#f0f4f8}td{text-align:right}.note{color:#667}
section.figure{margin:1em 0 2em;border-top:1px solid #dde}"""


def build_report(study: ferrotune.Study) -> str:
    """The HTML report of ``study``: one self-contained page (plotly.js inlined)."""
    try:
        from plotly.offline import get_plotlyjs
    except ImportError as e:
        raise MissingDependencyError(
            f"the report needs plotly ({e}): pip install 'ferrotune[plot]'"
        ) from e
    n = len(study.directions)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if complete:
        importances = _importances(study, None if n == 1 else 0)
        figures = _figures(study, importances)
    else:
        # Nothing to plot but the timeline (when there are trials) and the intermediate
        # values pruned trials reported: a sentence instead of empty figures and tables,
        # and no warnings of the plotting functions.
        importances = "importance unavailable: no trial is complete yet"
        figures = [f for f in _figures(study, importances) if f[0] in ("timeline", "intermediate")]
        figures = figures if study.get_trials(deepcopy=False) else []
    sections = [] if complete else ['<p class="note">No trial is complete yet.</p>']
    for fid, title, draw in figures:
        try:
            body = draw().to_html(full_html=False, include_plotlyjs=False, div_id=f"plot-{fid}")
        except Exception as e:  # a figure the study cannot give is a sentence
            body = f'<p class="note">{html.escape(" ".join(str(e).split()))}</p>'
        sections.append(
            f'<section class="figure" id="fig-{fid}"><h2>{html.escape(title)}</h2>{body}</section>'
        )
    states: dict[str, int] = {}
    for t in study.trials:
        states[t.state.name] = states.get(t.state.name, 0) + 1
    facts: list[list[Any]] = [
        ["directions", ", ".join(d.name.lower() for d in study.directions)],
        ["trials", sum(states.values())],
        *([k.lower(), v] for k, v in states.items()),
    ]
    if n == 1 and states.get("COMPLETE"):
        facts.append(["best value", study.best_value])
    name = html.escape(study.study_name)
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>ferrotune report: {name}</title><style>{_STYLE}</style>"
        f"<script>{get_plotlyjs()}</script></head><body>"
        f'<h1>Study {name}</h1><p class="note">ferrotune {ferrotune.__version__}, {when}</p>'
        f"{_table([], facts, 'facts')}"
        f'<h2 id="best-trials">Best trial{"" if n == 1 else "s (Pareto front)"}</h2>'
        f"{_best_table(study)}"
        f'<h2 id="importances">Parameter importances{"" if n == 1 else " (objective 0)"}</h2>'
        f"{_importance_html(importances)}{''.join(sections)}</body></html>\n"
    )
