"""How the commands print records: ``table``, ``json``, ``yaml`` or ``value`` (Optuna's
formats), and the records of studies and trials they print."""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ferrotune.exceptions import CLIUsageError, MissingDependencyError
from ferrotune.trial import FrozenTrial

FORMATS = ("value", "json", "table", "yaml")
_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def plain(value: Any) -> Any:
    """``value`` as JSON/YAML can hold it: datetimes as text, tuples as lists, anything
    else unknown as ``str``. Infinities and NaN stay floats, as in Optuna's command line:
    ``inf`` in tables and CSV, ``.inf`` in YAML, ``Infinity`` / ``NaN`` in JSON (Python's
    ``json`` reads them back; strict JSON has no such values, but a null would not tell
    an infinite value from a missing one)."""
    if value is None or isinstance(value, (bool, int, str, float)):
        return value
    if isinstance(value, datetime.datetime):
        return value.strftime(_DATETIME_FORMAT)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if hasattr(value, "item"):  # numpy scalars
        return plain(value.item())
    return str(value)


def trial_record(
    trial: FrozenTrial, multi_objective: bool, n_objectives: int = 2
) -> dict[str, Any]:
    """One trial with Optuna's CLI columns (``value`` or ``values``, times, duration,
    params, user_attrs, state). With several objectives, a trial without values (PRUNED,
    FAIL, RUNNING) gets ``n_objectives`` Nones, so that ``--flatten`` gives it the same
    ``values_i`` columns as the others (as Optuna's CLI)."""
    record: dict[str, Any] = {"number": trial.number}
    if multi_objective:
        record["values"] = list(trial.values) if trial.values is not None else [None] * n_objectives
    else:
        record["value"] = trial.value
    record["datetime_start"] = trial.datetime_start
    record["datetime_complete"] = trial.datetime_complete
    record["duration"] = str(trial.duration) if trial.duration is not None else None
    record["params"] = dict(trial.params)
    record["user_attrs"] = dict(trial.user_attrs)
    record["state"] = trial.state.name
    return record


def flatten(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Nested columns spread out as Optuna's ``--flatten``: ``params_x``, ``values_0``."""
    out = []
    for record in records:
        row: dict[str, Any] = {}
        for key, value in record.items():
            if isinstance(value, Mapping):
                row.update({f"{key}_{k}": v for k, v in value.items()})
            elif isinstance(value, (list, tuple)):
                row.update({f"{key}_{i}": v for i, v in enumerate(value)})
            else:
                row[key] = value
        out.append(row)
    return out


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _table(records: Sequence[Mapping[str, Any]]) -> str:
    """An ASCII table; numbers right-aligned, text left-aligned (Optuna's layout)."""
    header = list(dict.fromkeys(k for r in records for k in r))
    if not header:
        return ""
    cells = [[_cell(plain(r.get(k))) for k in header] for r in records]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(header)]
    numeric = [
        all(r.get(k) is None or isinstance(r.get(k), (int, float)) for r in records) for k in header
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "| " + " | ".join(parts) + " |"

    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    return "\n".join([rule, line(header), rule, *(line(row) for row in cells), rule])


def _yaml_dump(data: Any) -> str:
    try:
        import yaml
    except ImportError as e:
        raise MissingDependencyError("-f yaml needs PyYAML: pip install 'ferrotune[cli]'") from e
    return str(yaml.safe_dump(data, sort_keys=False)).strip()


def render(
    records: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    fmt: str,
    flat: bool = False,
) -> str:
    """``records`` (a list, or one record) in the output format ``fmt``."""
    single = isinstance(records, Mapping)
    rows: list[Any] = [records] if single else list(records)
    if flat:
        rows = flatten(rows)
    if fmt == "table":
        return _table(rows)
    if fmt == "value":
        return "\n".join(" ".join(_cell(plain(v)) for v in r.values()) for r in rows)
    data = plain(rows[0] if single else rows)
    if fmt == "json":
        return json.dumps(data)
    if fmt == "yaml":
        return _yaml_dump(data)
    raise CLIUsageError(f"unknown output format {fmt!r}; use one of {', '.join(FORMATS)}")
