"""ferrotune's Rust pruners as Optuna pruners (subclasses of ``optuna.pruners.BasePruner``)."""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import optuna
from optuna.study import Study
from optuna.trial import FrozenTrial

from ferrotune import pruners as _native
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.integration.optuna._access import storage_of
from ferrotune.integration.optuna._mirror import Mirrors
from ferrotune.storages._base import journal_rung_attrs

__all__ = [
    "HyperbandPruner",
    "MedianPruner",
    "NopPruner",
    "PatientPruner",
    "PercentilePruner",
    "SuccessiveHalvingPruner",
    "ThresholdPruner",
    "WilcoxonPruner",
]


class _PrunerAdapter(optuna.pruners.BasePruner):
    """An Optuna pruner whose rule runs in Rust: ``prune(study, trial)`` brings a private
    core mirroring the study up to date (the trials new or changed since the last call)
    and asks the ferrotune pruner. Successive halving's rung records are stored as the
    trials' system attributes ``completed_rung_{k}`` (Optuna's form, the value alone, so
    that Optuna's own pruners can take over the study) and
    ``ferrotune:completed_rung_{k}`` (ferrotune's), read back by every worker's mirror;
    a worker decides from the records it has synced (Optuna's
    storages offer no serialized step, so two workers can decide one rung at once)."""

    _native_class: ClassVar[type[_native.BasePruner]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        native = cls.__dict__.get("_native_class")
        if native is not None:
            cls.__signature__ = inspect.signature(native)  # type: ignore[attr-defined]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._native: Any = self._native_class(*args, **kwargs)
        self._init_transient()

    def _init_transient(self) -> None:
        rust = self._native._rust

        def attach(core: Any, study_name: str) -> None:
            if rust is not None:
                core.set_pruner(rust, study_name)

        self._mirrors = Mirrors(attach)

    def __getstate__(self) -> dict[str, Any]:
        return {"_native": self._native}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._native = state["_native"]
        self._init_transient()

    def __repr__(self) -> str:
        return f"ferrotune.integration.optuna.{self._native!r}"

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        """Whether ``trial`` should stop at its last reported step (the ferrotune rule)."""
        if self._native._is_nop:
            return False
        with self._mirrors.lock:
            m = self._mirrors.get(study)
            pruned, records = m.core.prune(trial.number)
            for record in records:
                for key, value in journal_rung_attrs(record):
                    storage_of(study).set_trial_system_attr(m.trial_ids[record[0]], key, value)
        return bool(pruned)


class NopPruner(_PrunerAdapter):
    """Never prunes."""

    _native_class = _native.NopPruner


class MedianPruner(_PrunerAdapter):
    """ferrotune's :class:`~ferrotune.pruners.MedianPruner` as an Optuna pruner, with its
    arguments and defaults (Optuna's)."""

    _native_class = _native.MedianPruner


class PercentilePruner(_PrunerAdapter):
    """ferrotune's :class:`~ferrotune.pruners.PercentilePruner` as an Optuna pruner."""

    _native_class = _native.PercentilePruner


class ThresholdPruner(_PrunerAdapter):
    """ferrotune's :class:`~ferrotune.pruners.ThresholdPruner` as an Optuna pruner."""

    _native_class = _native.ThresholdPruner


class SuccessiveHalvingPruner(_PrunerAdapter):
    """ferrotune's :class:`~ferrotune.pruners.SuccessiveHalvingPruner` (asynchronous
    successive halving) as an Optuna pruner."""

    _native_class = _native.SuccessiveHalvingPruner


class HyperbandPruner(_PrunerAdapter):
    """ferrotune's :class:`~ferrotune.pruners.HyperbandPruner` as an Optuna pruner. Unlike
    Optuna's, it does not restrict what the sampler sees to one bracket."""

    _native_class = _native.HyperbandPruner


class WilcoxonPruner(_PrunerAdapter):
    """ferrotune's :class:`~ferrotune.pruners.WilcoxonPruner` as an Optuna pruner."""

    _native_class = _native.WilcoxonPruner


class PatientPruner(_PrunerAdapter):
    """ferrotune's :class:`~ferrotune.pruners.PatientPruner` as an Optuna pruner.

    Args:
        wrapped_pruner: None or another pruner of this module (its Rust rule is wrapped).
        patience: Steps without improvement tolerated before the wrapped pruner is asked.
        min_delta: Smallest change that counts as an improvement (0.0).

    Raises:
        InvalidArgumentError: ``wrapped_pruner`` is not a pruner of this module (an
            Optuna pruner runs in Python and cannot be wrapped by a Rust rule).
    """

    _native_class = _native.PatientPruner

    def __init__(
        self,
        wrapped_pruner: optuna.pruners.BasePruner | None,
        patience: int,
        min_delta: float = 0.0,
    ) -> None:
        if wrapped_pruner is not None and not isinstance(wrapped_pruner, _PrunerAdapter):
            raise InvalidArgumentError(
                "wrapped_pruner must be None or a pruner of ferrotune.integration.optuna, got "
                f"{type(wrapped_pruner).__name__}"
            )
        inner = None if wrapped_pruner is None else wrapped_pruner._native
        super().__init__(inner, patience, min_delta)
