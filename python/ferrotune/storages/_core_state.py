"""A study's Rust record (:class:`ferrotune._core.StudyCore`) as plain Python data, so that
in-memory studies can be pickled, copied and saved with joblib."""

from __future__ import annotations

import math
from typing import Any

from ferrotune import _core
from ferrotune.distributions import _core_dist_key

__all__ = ["export_core", "import_core"]


def export_core(core: _core.StudyCore, maximize: list[bool]) -> dict[str, Any]:
    """Every trial of ``core`` (states, values, parameters with their distributions,
    intermediate values, constraints, times) as picklable data."""
    # Plain tuples, in the format of earlier versions, so that their pickles load.
    # The intermediate values of objectives 1, 2, ... (several objectives) come last, so
    # earlier pickles (six fields) still load.
    records: list[tuple[Any, ...]] = [
        (int(r.state), r.values, r.params, r.intermediate, r.started, r.completed)
        + ((r.intermediate_rest,) if r.intermediate_rest else ())
        for r in core.records(0, core.n_trials())
    ]
    keys = sorted({key for rec in records for key, _ in rec[2]})
    dists = {}
    for key in keys:
        name, d = core.param_dist(key)
        dists[key] = (name, _core_dist_key(d))
    return {
        "maximize": list(maximize),
        "records": records,
        "dists": dists,
        "constraints": core.all_constraints(),
        # Samplers' tags (a population method's generation; absent from older pickles).
        "tags": core.all_tags(),
    }


def _dist(dt: tuple[int, float, float, float | None, bool, int]) -> _core.Dist:
    kind, low, high, step, log, n = dt
    if kind == 0:
        return _core.Dist.float("", low, high, step, log)
    if kind == 1:
        return _core.Dist.int("", int(low), int(high), int(step or 1), log)
    return _core.Dist.categorical("", n)


def import_core(state: dict[str, Any]) -> _core.StudyCore:
    """A new core holding the trials of :func:`export_core`'s ``state``."""
    core = _core.StudyCore(state["maximize"])
    records = state["records"]
    if not records:
        return core
    dists = [(str(key), _dist(dt)) for key, (_, dt) in state["dists"].items()]
    names = {key: name for key, (name, _) in state["dists"].items()}
    trials: list[tuple[int, int, int, float | None, float | None]] = []
    values: list[list[float]] = []
    params: list[tuple[int, str, str, float]] = []
    intermediate: list[tuple[int, int, float | None]] = []
    rest: list[tuple[int, int, list[float]]] = []
    for number, (st, vals, ps, inter, started, completed, *more) in enumerate(records):
        trials.append(
            (
                number,
                number,
                st,
                None if math.isnan(started) else started,
                None if math.isnan(completed) else completed,
            )
        )
        values.append(list(vals))
        params.extend((number, names[key], str(key), v) for key, v in ps)
        intermediate.extend((number, step, None if math.isnan(v) else v) for step, v in inter)
        if more:
            rest.extend((number, step, list(r)) for step, r in more[0])
    core.apply_remote_batch(trials, values, state["constraints"], dists, params, intermediate, rest)
    tags = [(n, tag) for n, tag in enumerate(state.get("tags", [])) if tag]
    if tags:
        core.set_tags(tags)
    return core
