"""The commands that read and write studies: Optuna's ``studies``, ``study-names``,
``create-study``, ``delete-study``, ``trials``, ``best-trial``, ``best-trials``, ``ask`` and
``tell``, and ``export`` (CSV or JSON)."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ferrotune
from ferrotune.cli._output import flatten, plain, render, trial_record
from ferrotune.cli._storage import close_storage, open_storage
from ferrotune.exceptions import CLIUsageError
from ferrotune.storages import BaseStorage
from ferrotune.trial import TrialState


@contextmanager
def _storage(args: argparse.Namespace, create: bool = False) -> Iterator[BaseStorage]:
    storage = open_storage(args.storage, args.storage_class, create=create)
    try:
        yield storage
    finally:
        close_storage(storage)


def _load(storage: BaseStorage, args: argparse.Namespace, **kwargs: Any) -> ferrotune.Study:
    if args.study_name is None:
        names = ferrotune.get_all_study_names(storage)
        if len(names) != 1:
            listed = f": {', '.join(map(repr, names[:5]))}" if names else ""
            raise CLIUsageError(
                f"give --study-name; the storage holds {len(names)} studies{listed}"
            )
    return ferrotune.load_study(study_name=args.study_name, storage=storage, **kwargs)


def studies(args: argparse.Namespace) -> int:
    with _storage(args) as storage:
        records = []
        for s in ferrotune.get_all_study_summaries(storage, include_best_trial=False):
            record: dict[str, Any] = {
                "name": s.study_name,
                "direction": [d.name for d in s.directions],
                "n_trials": s.n_trials,
                "datetime_start": s.datetime_start,
            }
            record["user_attrs"] = s.user_attrs
            records.append(record)
        # As Optuna's CLI: the column for every study when any study has attributes.
        if not any(r["user_attrs"] for r in records):
            for r in records:
                del r["user_attrs"]
    print(render(records, args.format, args.flatten))
    return 0


def study_names(args: argparse.Namespace) -> int:
    with _storage(args) as storage:
        names = ferrotune.get_all_study_names(storage)
    print(render([{"name": n} for n in names], args.format))
    return 0


def create_study(args: argparse.Namespace) -> int:
    if args.direction is not None and args.directions is not None:
        raise CLIUsageError("give --direction or --directions, not both")
    with _storage(args, create=True) as storage:
        study = ferrotune.create_study(
            storage=storage,
            study_name=args.study_name,
            direction=args.direction,
            directions=args.directions,
            load_if_exists=args.skip_if_exists,
        )
        print(study.study_name)
    return 0


def delete_study(args: argparse.Namespace) -> int:
    with _storage(args) as storage:
        ferrotune.delete_study(study_name=args.study_name, storage=storage)
    return 0


def trials(args: argparse.Namespace) -> int:
    with _storage(args) as storage:
        study = _load(storage, args)
        multi = len(study.directions) > 1
        records = [trial_record(t, multi, len(study.directions)) for t in study.trials]
        _user_attrs_column(records, study)
    print(render(records, args.format, args.flatten))
    return 0


def _user_attrs_column(records: list[dict[str, Any]], study: ferrotune.Study) -> None:
    """Drops ``user_attrs`` from the records when no trial of the study has any, as
    Optuna's CLI leaves the column out then (its columns come from every trial)."""
    if not any(t.user_attrs for t in study.get_trials(deepcopy=False)):
        for record in records:
            record.pop("user_attrs", None)


def best_trial(args: argparse.Namespace) -> int:
    with _storage(args) as storage:
        study = _load(storage, args)
        if len(study.directions) > 1:
            raise CLIUsageError(
                f"study {study.study_name!r} has several objectives: use best-trials"
            )
        record = trial_record(study.best_trial, False)
        _user_attrs_column([record], study)
    print(render(record, args.format, args.flatten))
    return 0


def best_trials(args: argparse.Namespace) -> int:
    with _storage(args) as storage:
        study = _load(storage, args)
        multi = len(study.directions) > 1
        records = [trial_record(t, multi, len(study.directions)) for t in study.best_trials]
        _user_attrs_column(records, study)
    print(render(records, args.format, args.flatten))
    return 0


def _json_argument(text: str | None, option: str) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise CLIUsageError(f"{option} is not valid JSON: {e}") from None


def _sampler(args: argparse.Namespace) -> ferrotune.samplers.BaseSampler | None:
    kwargs = _json_argument(args.sampler_kwargs, "--sampler-kwargs")
    if args.sampler is None:
        if kwargs is not None:
            raise CLIUsageError("--sampler-kwargs needs --sampler")
        return None
    # Only the package's public sampler classes: the name is never evaluated.
    cls = getattr(ferrotune.samplers, args.sampler, None)
    if args.sampler not in ferrotune.samplers.__all__ or not (
        isinstance(cls, type) and issubclass(cls, ferrotune.samplers.BaseSampler)
    ):
        raise CLIUsageError(f"--sampler {args.sampler!r} is not a sampler of ferrotune.samplers")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise CLIUsageError("--sampler-kwargs must be a JSON object")
    try:
        sampler: ferrotune.samplers.BaseSampler = cls(**(kwargs or {}))
    except TypeError as e:
        raise CLIUsageError(f"--sampler-kwargs: {e}") from None
    return sampler


def _search_space(text: str | None) -> dict[str, Any]:
    from ferrotune.distributions import json_to_distribution

    space = _json_argument(text, "--search-space")
    if space is None:
        return {}
    if not isinstance(space, dict):
        raise CLIUsageError("--search-space must be a JSON object of distributions")
    out = {}
    for name, dist in space.items():
        try:
            out[name] = json_to_distribution(json.dumps(dist))
        except (KeyError, TypeError, AttributeError) as e:
            raise CLIUsageError(
                f"--search-space: {name!r} is not a distribution ({e!r}); give "
                '{"name": "FloatDistribution", "attributes": {"low": 0, "high": 1}}'
            ) from None
    return out


def ask(args: argparse.Namespace) -> int:
    space = _search_space(args.search_space)
    with _storage(args) as storage:
        study = _load(storage, args, sampler=_sampler(args))
        trial = study.ask(fixed_distributions=space)
        record: dict[str, Any] = {"number": trial.number, "params": dict(trial.params)}
    print(render(record, args.format, args.flatten))
    return 0


def tell(args: argparse.Namespace) -> int:
    state = TrialState[args.state.upper()] if args.state is not None else None
    with _storage(args) as storage:
        study = _load(storage, args)
        study.tell(
            args.trial_number,
            args.values,
            state=state,
            skip_if_finished=args.skip_if_finished,
        )
    return 0


def _export_records(study: ferrotune.Study) -> list[dict[str, Any]]:
    """Every trial with all it holds (values, intermediate values, constraints...)."""
    from ferrotune.distributions import distribution_to_json

    multi = len(study.directions) > 1
    records = []
    for t in study.trials:
        record = trial_record(t, multi, len(study.directions))
        record["intermediate_values"] = {str(k): v for k, v in t.intermediate_values.items()}
        record["distributions"] = {
            k: json.loads(distribution_to_json(d)) for k, d in t.distributions.items()
        }
        records.append(record)
    return records


def export(args: argparse.Namespace) -> int:
    with _storage(args) as storage:
        study = _load(storage, args)
        records = _export_records(study)
        directions = [d.name for d in study.directions]
        name = study.study_name
    if args.format == "json":
        document = {"study_name": name, "directions": directions, "trials": records}
        text = json.dumps(plain(document), indent=1)
    else:
        rows = flatten(
            [{k: v for k, v in r.items() if k not in ("distributions",)} for r in records]
        )
        header = list(dict.fromkeys(k for r in rows for k in r))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(plain(rows))
        text = buffer.getvalue().rstrip("\n")
    if args.output in (None, "-"):
        print(text)
    else:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        print(f"wrote {len(records)} trial(s) of {name!r} to {args.output}", file=sys.stderr)
    return 0
