"""A study's trials gathered once into numpy arrays, shared by every plot.

Each plot reads the study with one ``get_trials`` call and one pass over the trials
(:func:`trial_table`); everything after that (filters, best-so-far lines, grids, ranks,
Pareto fronts) works on the arrays.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.logging import get_logger
from ferrotune.study import Study, StudyDirection
from ferrotune.trial import FrozenTrial, TrialState

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    BoolArray = npt.NDArray[np.bool_]
    IntArray = npt.NDArray[np.int64]

logger = get_logger("ferrotune.visualization")

COMPLETE = TrialState.COMPLETE.value
#: Optuna's axis padding: 5% of the span on each side.
PADDING_RATIO = 0.05


@dataclass(frozen=True)
class ParamColumn:
    """One parameter over the table's rows.

    Attributes:
        present: Whether each row has the parameter.
        value: The value as a number (NaN where absent): the value itself for a float or
            int parameter and for a categorical one whose choices are all numbers, else
            NaN.
        index: For a categorical parameter, the index of the row's choice in
            ``choices`` (-1 where absent); else all -1.
    """

    name: str
    distribution: BaseDistribution
    present: BoolArray
    value: FloatArray
    index: IntArray
    choices: tuple[Any, ...] = ()

    @property
    def is_log(self) -> bool:
        d = self.distribution
        return isinstance(d, (FloatDistribution, IntDistribution)) and d.log

    @property
    def is_categorical(self) -> bool:
        return isinstance(self.distribution, CategoricalDistribution)

    @property
    def is_numerical(self) -> bool:
        """Optuna's rule: numbers, or categorical choices that are all numbers."""
        if not self.is_categorical:
            return True
        return all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in self.choices)

    def take(self, rows: Any) -> ParamColumn:
        return replace(
            self, present=self.present[rows], value=self.value[rows], index=self.index[rows]
        )


@dataclass(frozen=True)
class TrialTable:
    """The trials of one study as arrays, one row per trial."""

    trials: list[FrozenTrial]
    number: IntArray
    state: IntArray
    values: FloatArray  # (n, n_objectives), NaN unless COMPLETE
    feasible: BoolArray  # every constraint <= 0 (True for trials without constraints)
    constrained: BoolArray  # the trial has constraint values
    params: dict[str, ParamColumn] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.trials)

    def take(self, rows: Any) -> TrialTable:
        """The table restricted to ``rows`` (a mask or indices); parameters no kept row
        has are dropped."""
        idx = np.flatnonzero(rows) if np.asarray(rows).dtype == np.bool_ else np.asarray(rows)
        params = {}
        for name, col in self.params.items():
            kept = col.take(idx)
            if kept.present.any():
                params[name] = kept
        return TrialTable(
            trials=[self.trials[i] for i in idx],
            number=self.number[idx],
            state=self.state[idx],
            values=self.values[idx],
            feasible=self.feasible[idx],
            constrained=self.constrained[idx],
            params=params,
        )


def _categorical_indices(values: list[Any], choices: list[Any]) -> IntArray:
    # Keyed by type too, so that True, 1 and 1.0 stay different choices.
    lookup = {(type(c), c): k for k, c in enumerate(choices)}
    out = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        k = lookup.get((type(v), v))
        if k is None:
            k = lookup[type(v), v] = len(choices)
            choices.append(v)
        out[i] = k
    return out


def _column(
    name: str, dist: BaseDistribution, n: int, rows: list[int], values: list[Any]
) -> ParamColumn:
    present = np.zeros(n, dtype=np.bool_)
    idx = np.asarray(rows, dtype=np.int64)
    present[idx] = True
    value = np.full(n, np.nan)
    index = np.full(n, -1, dtype=np.int64)
    choices: tuple[Any, ...] = ()
    if isinstance(dist, CategoricalDistribution):
        grown = list(dist.choices)
        index[idx] = _categorical_indices(values, grown)
        choices = tuple(grown)
        if all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in choices):
            value[idx] = np.asarray(choices, dtype=np.float64)[index[idx]]
    else:
        value[idx] = np.asarray(values, dtype=np.float64)
    return ParamColumn(name, dist, present, value, index, choices)


def trial_table(
    study: Study, states: Sequence[TrialState] | None = None, with_params: bool = True
) -> TrialTable:
    """Read ``study``'s trials (those in ``states``, all when None) into arrays (without
    the parameter columns when ``with_params`` is False)."""
    trials = study.get_trials(deepcopy=False, states=states)
    n, m = len(trials), len(study.directions)
    number = np.empty(n, dtype=np.int64)
    state = np.empty(n, dtype=np.int64)
    values = np.full((n, m), np.nan)
    feasible = np.ones(n, dtype=np.bool_)
    constrained = np.zeros(n, dtype=np.bool_)
    cols: dict[str, tuple[BaseDistribution, list[int], list[Any]]] = {}
    for i, t in enumerate(trials):
        number[i] = t.number
        state[i] = t.state.value
        vs = t.values
        if vs is not None and len(vs) == m:
            values[i] = vs
        cons = t.constraints
        if cons:
            constrained[i] = True
            feasible[i] = all(c <= 0.0 for c in cons.values())
        for name, v in t.params.items() if with_params else ():
            col = cols.get(name)
            if col is None:
                col = cols[name] = (t.distributions[name], [], [])
            col[1].append(i)
            col[2].append(v)
    params = {name: _column(name, d, n, r, v) for name, (d, r, v) in cols.items()}
    return TrialTable(trials, number, state, values, feasible, constrained, params)


def as_studies(study: Study | Sequence[Study]) -> list[Study]:
    return [study] if isinstance(study, Study) else list(study)


def check_plot_args(
    study: Study | Sequence[Study],
    target: Callable[[FrozenTrial], float] | None,
    target_name: str,
) -> None:
    """Optuna's checks: a study with several objectives needs ``target``."""
    if target is None and any(len(s.directions) > 1 for s in as_studies(study)):
        raise InvalidArgumentError(
            "target: the study has several objectives; give target, e.g. "
            "target=lambda t: t.values[0]"
        )
    if target is not None and target_name == "Objective Value":
        warnings.warn(
            "`target` is specified, but `target_name` is the default value, 'Objective Value'.",
            stacklevel=3,
        )


def target_values(table: TrialTable, target: Callable[[FrozenTrial], float] | None) -> FloatArray:
    """The plotted value of each row: the objective, or ``target(trial)`` (COMPLETE rows
    only; NaN elsewhere)."""
    if target is None:
        return np.asarray(table.values[:, 0], dtype=np.float64)
    out = np.full(len(table), np.nan)
    for i in np.flatnonzero(table.state == COMPLETE):
        value = target(table.trials[i])
        if value is None:
            continue  # no value for this trial: left out as NaN (Optuna draws a gap)
        try:
            out[i] = float(value)
        except (TypeError, ValueError) as e:
            warnings.warn(
                f"Trial{table.trials[i].number}'s target value {value!r} could not be cast "
                "to float.",
                stacklevel=3,
            )
            raise InvalidArgumentError(
                f"target: returned {value!r} for trial {table.trials[i].number}, which is "
                "not a number"
            ) from e
    return out


def complete_finite(
    study: Study, target: Callable[[FrozenTrial], float] | None, with_params: bool = True
) -> tuple[TrialTable, FloatArray]:
    """The COMPLETE trials whose plotted value is finite (Optuna's filter; each trial left
    out is logged), with those values."""
    table = trial_table(study, states=(TrialState.COMPLETE,), with_params=with_params)
    values = target_values(table, target)
    finite = np.isfinite(values)
    for i in np.flatnonzero(~finite):
        logger.warning(
            f"Trial {table.number[i]} is omitted in visualization because its objective "
            "value is inf or nan."
        )
    if finite.all():
        return table, values
    return table.take(finite), values[finite]


def selected_params(table: TrialTable, params: list[str] | None) -> list[str]:
    """The sorted parameter names to draw; an unknown name in ``params`` is an error."""
    if params is None:
        return sorted(table.params)
    for name in params:
        if name not in table.params:
            raise InvalidArgumentError(f"params: parameter {name} does not exist in your study.")
    return sorted(set(params))


def is_reverse_scale(study: Study, target: Callable[[FrozenTrial], float] | None) -> bool:
    return target is not None or study.directions[0] == StudyDirection.MINIMIZE


def loss_matrix(values: FloatArray, directions: Sequence[StudyDirection]) -> FloatArray:
    """Objective values turned into losses (maximised objectives negated)."""
    signs = np.array([-1.0 if d == StudyDirection.MAXIMIZE else 1.0 for d in directions])
    return np.asarray(values * signs, dtype=np.float64)


def nondominated(loss: FloatArray) -> BoolArray:
    """Which rows of ``loss`` (all minimised) no other row dominates.

    Two objectives: a lexicographic sort and a running minimum, ``O(n log n)``. More: the
    rows in order of their sums, each block checked against the front found so far and
    within itself (:func:`_nondominated_unique`). Identical rows do not dominate each
    other.
    """
    n, m = loss.shape
    if n == 0:
        return np.zeros(0, dtype=np.bool_)
    unique, inverse = np.unique(loss, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    k = len(unique)
    if m == 1:
        keep = np.arange(k) == 0
    elif m == 2:
        # np.unique sorts lexicographically: a row is dominated iff an earlier row has a
        # second objective <= its own.
        prefix = np.minimum.accumulate(unique[:, 1])
        keep = np.ones(k, dtype=np.bool_)
        keep[1:] = unique[1:, 1] < prefix[:-1]
    else:
        keep = _nondominated_unique(unique)
    return np.asarray(keep[inverse], dtype=np.bool_)


def _dominates(a: FloatArray, b: FloatArray) -> BoolArray:
    """``out[i, j]``: row ``a[j]`` dominates row ``b[i]`` (one 2-D pass per objective,
    which numpy does faster than a reduction over a short last axis)."""
    le = np.ones((len(b), len(a)), dtype=np.bool_)
    lt = np.zeros((len(b), len(a)), dtype=np.bool_)
    for j in range(b.shape[1]):
        x, y = a[None, :, j], b[:, None, j]
        le &= x <= y
        lt |= x < y
    return le & lt


def _dominated_by(front: FloatArray, rows: FloatArray) -> BoolArray:
    """Whether some row of ``front`` dominates each of ``rows`` (in blocks of rows)."""
    out = np.zeros(len(rows), dtype=np.bool_)
    if len(front) == 0:
        return out
    block = max(1, 2_000_000 // len(front))
    for s in range(0, len(rows), block):
        out[s : s + block] = _dominates(front, rows[s : s + block]).any(axis=1)
    return out


def _nondominated_unique(unique: FloatArray, block: int = 256) -> BoolArray:
    """:func:`nondominated` for distinct rows and any number of objectives.

    A row can only be dominated by a row with a smaller sum, so in order of their sums each
    block of rows is checked against the front so far and against the earlier rows of its
    own block; the front only grows. ``O(n (|front| + block) m)``: fast when the front is
    small, ``O(n^2 m)`` when every row is on it.
    """
    order = np.argsort(unique.sum(axis=1), kind="stable")
    keep = np.zeros(len(unique), dtype=np.bool_)
    front = np.zeros((0, unique.shape[1]))
    for s in range(0, len(order), block):
        idx = order[s : s + block]
        rows = unique[idx]
        bad = _dominated_by(front, rows) | _dominates(rows, rows).any(axis=1)
        keep[idx[~bad]] = True
        front = np.concatenate([front, rows[~bad]])
    return keep


def nondomination_ranks(loss: FloatArray) -> IntArray:
    """Each row's non-domination rank (0 for the Pareto front), by peeling fronts with
    :func:`nondominated` (Deb et al. 2002's ranks)."""
    ranks = np.full(len(loss), -1, dtype=np.int64)
    remaining = np.arange(len(loss))
    rank = 0
    while remaining.size:
        front = nondominated(loss[remaining])
        ranks[remaining[front]] = rank
        remaining = remaining[~front]
        rank += 1
    return ranks


def average_ranks(values: FloatArray) -> FloatArray:
    """0-based ranks, ties sharing the mean of their positions (Optuna's rank plot)."""
    if values.size == 0:
        return np.zeros(0)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    mean_pos = starts + (counts - 1) / 2.0
    return np.asarray(mean_pos[inverse.reshape(-1)], dtype=np.float64)


def padded_range(lo: float, hi: float, log: bool) -> tuple[float, float]:
    """Optuna's axis range: 5% padding each side (in log10 space for a log axis)."""
    if log:
        a, b = math.log10(lo), math.log10(hi)
        pad = (b - a) * PADDING_RATIO
        return 10 ** (a - pad), 10 ** (b + pad)
    pad = (hi - lo) * PADDING_RATIO
    return lo - pad, hi + pad


def hover_text(trial: FrozenTrial) -> str:
    """Optuna's hover text: number, values, params and user attributes."""
    import json

    def plain(v: Any) -> Any:
        try:
            json.dumps(v)
        except TypeError:
            return str(v)
        return v

    data: dict[str, Any] = {"number": trial.number, "values": trial.values}
    data["params"] = {k: plain(v) for k, v in trial.params.items()}
    if trial.user_attrs:
        data["user_attrs"] = {k: plain(v) for k, v in trial.user_attrs.items()}
    return json.dumps(data, indent=2).replace("\n", "<br>")
