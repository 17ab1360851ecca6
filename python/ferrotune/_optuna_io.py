"""Moving studies between Optuna and ferrotune: :func:`import_study` and
:func:`export_study`.

Both keep each trial's number, state, values, parameters with their distributions,
intermediate values, user and system attributes, constraints and start and completion
times, and the study's directions and attributes. Optuna is imported only when one of
them is called (``pip install optuna``).

Where the two libraries store a thing differently, it is translated:

- constraints: ferrotune keeps a trial's constraint values as one system attribute
  ``"constraints"`` (name -> value); Optuna 5 keeps one system attribute
  ``"constraints:<name>"`` each (or, from its ``constraints_func``, a list under
  ``"constraints"``, whose values are named ``"0"``, ``"1"``, ... here);
- intermediate values of a study with several objectives (one list per step, which
  Optuna cannot report) travel in Optuna's trial system attribute
  ``"ferrotune:intermediate_values"`` and come back as they were.
"""

from __future__ import annotations

import datetime
import math
import warnings
from typing import TYPE_CHECKING, Any

from ferrotune.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from ferrotune.exceptions import InvalidArgumentError, MissingDependencyError
from ferrotune.storages import BaseStorage, InMemoryStorage, get_storage
from ferrotune.storages._base import (
    _RUNG_PREFIX,
    CONSTRAINT_PREFIX,
    RUNG_KEY,
    rung_records,
    split_constraint_attrs,
)
from ferrotune.study._direction import StudyDirection
from ferrotune.trial._state import TO_CORE, TrialState

if TYPE_CHECKING:
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial

__all__ = ["export_study", "import_study"]

#: Optuna's trial system attribute that carries the intermediate values of a study with
#: several objectives (one list per step).
VECTOR_KEY = "ferrotune:intermediate_values"


def _optuna() -> Any:
    try:
        import optuna
    except ImportError as e:
        raise MissingDependencyError(
            f"moving studies from or to Optuna needs Optuna ({e}): pip install optuna"
        ) from e
    return optuna


def _optuna_storage_of(study: Any) -> tuple[Any, int]:
    """An Optuna study's storage and study id: Optuna 5's ``Study`` reads and writes its
    system attributes only there, and keeps both private (this is Optuna's object, not
    a ferrotune Study)."""
    fields = vars(study)
    return fields["_storage"], int(fields["_study_id"])


# ------------------------------------------------------------------ distributions
def _from_optuna_dist(name: str, d: Any) -> BaseDistribution:
    """A ferrotune distribution equal to Optuna's ``d`` (its deprecated classes too:
    they are subclasses of Optuna's float and int distributions)."""
    optuna = _optuna()
    od = optuna.distributions
    if isinstance(d, od.FloatDistribution):
        return FloatDistribution(d.low, d.high, log=d.log, step=d.step)
    if isinstance(d, od.IntDistribution):
        return IntDistribution(d.low, d.high, log=d.log, step=d.step)
    if isinstance(d, od.CategoricalDistribution):
        return CategoricalDistribution(list(d.choices))
    raise InvalidArgumentError(f"parameter {name!r}: unknown Optuna distribution {d!r}")


def _to_optuna_dist(d: BaseDistribution) -> Any:
    od = _optuna().distributions
    if isinstance(d, FloatDistribution):
        return od.FloatDistribution(d.low, d.high, log=d.log, step=d.step)
    if isinstance(d, IntDistribution):
        return od.IntDistribution(d.low, d.high, log=d.log, step=d.step)
    if isinstance(d, CategoricalDistribution):
        return od.CategoricalDistribution(list(d.choices))
    raise InvalidArgumentError(f"unknown distribution {d!r}")


def _stamp(t: datetime.datetime | None) -> float | None:
    return None if t is None else t.timestamp()


# ------------------------------------------------------------------ import
def import_study(
    optuna_storage_url_or_study: Any,
    study_name: str | None = None,
    storage: str | BaseStorage | None = None,
) -> Study:
    """Reads an Optuna study into a new ferrotune study.

    Args:
        optuna_storage_url_or_study: An ``optuna.Study``, an Optuna storage object, or the
            URL of an Optuna database (``sqlite:///optuna.db``, ...).
        study_name: The Optuna study to read from a URL or storage; None when it holds
            exactly one study. Also the new study's name (for an ``optuna.Study``: None
            keeps its name).
        storage: Where the ferrotune study goes: None (default) for a new in-memory
            storage, a ferrotune storage or a ferrotune database URL. (A storage of your
            own keeps the times only if it has ``restore_trial_times``, as
            :class:`~ferrotune.storages.RDBStorage` does; otherwise trials get the times
            of the import.)

    Returns:
        The ferrotune :class:`~ferrotune.Study` (with the default sampler,
        :class:`~ferrotune.samplers.AutoSampler`; set another with ``study.sampler =
        ...``), its trials numbered as in Optuna. Successive halving's rung records
        (``completed_rung_{k}``) are translated both ways, so that either library's
        pruner goes on ranking against them (:func:`export_study` writes Optuna's form
        for one objective).

    Raises:
        MissingDependencyError: Optuna is not installed.
        DuplicatedStudyError: ``storage`` already has a study of that name.
    """
    from ferrotune.study._study import Study

    source = _optuna_study(optuna_storage_url_or_study, study_name)
    name = study_name if study_name is not None else source.study_name
    target = get_storage(storage)
    directions = [StudyDirection(int(d)) for d in source.directions]
    sid = target.create_new_study(directions, name)
    try:
        storage_of_source, source_id = _optuna_storage_of(source)
        system = storage_of_source.get_study_system_attrs(source_id)
        for key, value in system.items():
            target.set_study_system_attr(sid, key, value)
        for key, value in source.user_attrs.items():
            target.set_study_user_attr(sid, key, value)
        trials = [_Imported(t, len(directions)) for t in source.get_trials(deepcopy=False)]
        _rung_records_from_optuna(trials)
        if isinstance(target, InMemoryStorage):
            _load_in_memory(target, sid, trials)
            found = [r for t in trials for r in rung_records(t.number, t.system)]
            if found:
                target.get_core(sid).add_rung_records(sorted(found, key=lambda r: r[4]))
        else:
            for t in trials:
                _write_trial(target, sid, t)
            restore = getattr(target, "restore_trial_times", None)
            if restore is not None:
                restore(sid, {t.number: (t.started, t.completed) for t in trials})
    except BaseException:
        target.delete_study(sid)
        raise
    return Study(name, target)


def _rung_records_from_optuna(trials: list[_Imported]) -> None:
    """Optuna's successive-halving records (``completed_rung_{k}``: the value alone) in
    ferrotune's form (the value, the decision, the place in the study's order), so that
    a ferrotune pruner ranks new trials against them. The decision: promoted, but at the
    last rung of a PRUNED trial; the order: by trial number, then rung (Optuna keeps no
    time of a record)."""
    found: list[tuple[_Imported, int, bool]] = []
    for t in trials:
        rungs = sorted(
            int(k[len(_RUNG_PREFIX) :])
            for k, v in t.system.items()
            if k.startswith(_RUNG_PREFIX)
            and k[len(_RUNG_PREFIX) :].isdigit()
            and isinstance(v, (int, float))
            and not isinstance(v, bool)
            # ferrotune's own record of the rung, kept beside Optuna's form, is read as it is
            and not isinstance(t.system.get("ferrotune:" + k), dict)
        )
        found.extend((t, k, k != rungs[-1] or t.state != TrialState.PRUNED) for k in rungs)
    for order, (t, k, promoted) in enumerate(found):
        key = RUNG_KEY.format(k)
        t.system[key] = {"values": [float(t.system[key])], "promoted": promoted, "order": order}


def _optuna_study(source: Any, study_name: str | None) -> Any:
    optuna = _optuna()
    if isinstance(source, optuna.Study):
        return source
    if isinstance(source, (str, optuna.storages.BaseStorage)):
        try:
            return optuna.load_study(study_name=study_name, storage=source)
        except KeyError:
            # Optuna's "Record does not exist." names neither the study nor the storage.
            raise InvalidArgumentError(
                f"the Optuna storage {source!r} has no study named {study_name!r}"
            ) from None
    raise InvalidArgumentError(
        "optuna_storage_url_or_study must be an optuna.Study, an Optuna storage or its "
        f"URL, got {type(source).__name__}"
    )


class _Imported:
    """One Optuna trial in ferrotune's terms."""

    def __init__(self, t: Any, n_objectives: int) -> None:
        self.number: int = t.number
        self.state = TrialState(int(t.state))
        self.values: list[float] = list(t.values) if t.values is not None else []
        self.dists = {k: _from_optuna_dist(k, d) for k, d in t.distributions.items()}
        self.internal = {k: self.dists[k].to_internal_repr(v) for k, v in t.params.items()}
        system, cons = split_constraint_attrs(t.system_attrs)
        self.constraints = cons or {}
        vectors = system.pop(VECTOR_KEY, None)
        if n_objectives > 1 and isinstance(vectors, dict):
            self.intermediate: dict[int, Any] = {
                int(k): [float(x) for x in v] for k, v in vectors.items()
            }
        else:
            self.intermediate = {int(k): float(v) for k, v in t.intermediate_values.items()}
        self.system = system
        self.user = dict(t.user_attrs)
        self.started = _stamp(t.datetime_start)
        self.completed = _stamp(t.datetime_complete)


def from_optuna_trial(t: Any) -> FrozenTrial:
    """An Optuna ``FrozenTrial`` as ferrotune's (``Study.add_trial`` of an Optuna trial):
    the same fields, Optuna's distributions and constraint attributes as ferrotune's."""
    from ferrotune.trial import FrozenTrial

    system, cons = split_constraint_attrs(t.system_attrs)
    if cons is not None:
        system["constraints"] = cons
    return FrozenTrial(
        number=t.number,
        state=TrialState(int(t.state)),
        value=None,
        datetime_start=t.datetime_start,
        datetime_complete=t.datetime_complete,
        params=dict(t.params),
        distributions={k: _from_optuna_dist(k, d) for k, d in t.distributions.items()},
        user_attrs=dict(t.user_attrs),
        system_attrs=system,
        intermediate_values=dict(t.intermediate_values),
        values=None if t.values is None else list(t.values),
    )


def _load_in_memory(storage: InMemoryStorage, sid: int, trials: list[_Imported]) -> None:
    """Loads the trials into the study's core in one call, times included."""
    core = storage.get_core(sid)
    choices = storage.get_choices(sid)
    rows: list[tuple[int, int, int, float | None, float | None]] = []
    values, constraints, dists, params, inter, rest = [], [], {}, [], [], []
    for t in trials:
        rows.append((t.number, t.number, int(TO_CORE[t.state]), t.started, t.completed))
        values.append(t.values)
        constraints.append([t.constraints[k] for k in sorted(t.constraints)])
        for name, internal in t.internal.items():
            d = t.dists[name]
            if isinstance(d, CategoricalDistribution):
                choices.setdefault(name, d)
            key = f"{name}\x00{d!r}"
            dists[key] = d._core
            params.append((t.number, name, key, internal))
        for step, v in sorted(t.intermediate.items()):
            first = v[0] if isinstance(v, list) else v
            inter.append((t.number, step, None if math.isnan(first) else first))
            if isinstance(v, list):
                rest.append((t.number, step, v[1:]))
    failed = core.apply_remote_batch(
        rows, values, constraints, list(dists.items()), params, inter, rest
    )
    for number, why in failed:
        warnings.warn(f"trial {number} of the Optuna study was loaded as FAIL: {why}", stacklevel=3)
    for t in trials:
        _write_attrs(storage, sid, t)


def _write_attrs(storage: BaseStorage, sid: int, t: _Imported, constraints: bool = True) -> None:
    """The trial's attributes; with ``constraints``, its constraint values as the system
    attribute (in memory, where the core has them already; a database storage's
    ``record_constraints`` writes them in its own form)."""
    for key, value in t.user.items():
        storage.set_trial_user_attr(sid, t.number, key, value)
    for key, value in t.system.items():
        storage.set_trial_system_attr(sid, t.number, key, value)
    if constraints and t.constraints:
        storage.set_trial_system_attr(sid, t.number, "constraints", dict(t.constraints))


def _write_trial(storage: BaseStorage, sid: int, t: _Imported) -> None:
    """Writes one trial through the storage's trial methods (a database storage; the
    times follow, for all trials at once)."""
    if t.state == TrialState.WAITING:
        number = storage.enqueue_trial(sid, {})
    else:
        number = storage.create_new_trial(sid)
    if number != t.number:
        raise InvalidArgumentError(
            f"trial {t.number} of the Optuna study would become trial {number}: the target "
            "study must be new"
        )
    for name, internal in t.internal.items():
        d = t.dists[name]
        if isinstance(d, CategoricalDistribution):
            choices = storage.get_choices(sid)
            if name not in choices:
                choices[name] = d  # a database storage writes it through
        storage.record_param(sid, number, name, d, internal)
    for step, v in sorted(t.intermediate.items()):
        storage.record_intermediate(sid, number, step, v)
    if t.constraints:
        storage.record_constraints(sid, number, dict(t.constraints))
    _write_attrs(storage, sid, t, constraints=False)
    if t.state.is_finished():
        storage.finish_trial(sid, number, t.state, t.values)
    storage.flush(sid, number)


# ------------------------------------------------------------------ export
def export_study(study: Study, optuna_storage_url: Any, study_name: str | None = None) -> Any:
    """Writes a ferrotune study into an Optuna storage as a new Optuna study.

    Args:
        study: The ferrotune study.
        optuna_storage_url: The URL of an Optuna database (``sqlite:///optuna.db``, ...)
            or an Optuna storage object.
        study_name: The Optuna study's name; None keeps the ferrotune study's name.

    Returns:
        The new ``optuna.Study``.

    Raises:
        MissingDependencyError: Optuna is not installed.
        optuna.exceptions.DuplicatedStudyError: The Optuna storage already has a study
            of that name.
    """
    optuna = _optuna()
    target = optuna.create_study(
        storage=optuna_storage_url,
        study_name=study_name if study_name is not None else study.study_name,
        directions=[d.name.lower() for d in study.directions],
    )
    storage, study_id = _optuna_storage_of(target)
    for key, value in study.system_attrs.items():
        storage.set_study_system_attr(study_id, key, value)
    for key, value in study.user_attrs.items():
        target.set_user_attr(key, value)
    multi = len(study.directions) > 1
    target.add_trials([_optuna_trial(t, multi) for t in study.get_trials(deepcopy=False)])
    return target


def _optuna_trial(t: FrozenTrial, multi: bool) -> Any:
    optuna = _optuna()
    system = {k: v for k, v in t.system_attrs.items() if k != "constraints"}
    if not multi:
        # Optuna's successive halving reads a rung record as the value alone (and fails
        # on ferrotune's dict: value, decision, order).
        for key, value in list(system.items()):
            if key.startswith(_RUNG_PREFIX) and isinstance(value, dict):
                values = value.get("values")
                if isinstance(values, list) and len(values) == 1:
                    system[key] = float(values[0])
    for key, value in t.constraints.items():
        system[CONSTRAINT_PREFIX + key] = value
    intermediate = t.intermediate_values
    if multi and intermediate:
        system[VECTOR_KEY] = {str(k): list(v) for k, v in intermediate.items()}
        intermediate = {}
    out = optuna.trial.create_trial(
        state=optuna.trial.TrialState(int(t.state)),
        values=t.values if t.state == TrialState.COMPLETE else None,
        params=dict(t.params),
        distributions={k: _to_optuna_dist(d) for k, d in t.distributions.items()},
        user_attrs=dict(t.user_attrs),
        system_attrs=system,
        intermediate_values=dict(intermediate),
    )
    out.datetime_start = t.datetime_start
    out.datetime_complete = t.datetime_complete
    if t.state != TrialState.COMPLETE and t.values is not None:
        out.values = list(t.values)
    return out
