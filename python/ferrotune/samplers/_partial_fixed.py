from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers._base import (
    BaseSampler,
    _DelegatingSampler,
    _RustModelSampler,
    _user_overrides,
)
from ferrotune.storages._base import FIXED_PARAMS_KEY

if TYPE_CHECKING:
    from ferrotune.distributions import BaseDistribution
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial

__all__ = ["PartialFixedSampler"]


class PartialFixedSampler(_DelegatingSampler):
    """Fixes some parameters and lets ``base_sampler`` choose the others, as Optuna's.

    A fixed value is handled as an enqueued one (:meth:`Study.enqueue_trial
    <ferrotune.Study.enqueue_trial>`), which takes precedence over it: a value outside
    the distribution suggested for it warns, as in Optuna, and the trial records the
    nearest value of the distribution (a sampled one for a choice that is not among the
    categorical choices) where Optuna records the value as given.

    As Optuna's, the fixed parameters are left out of the base sampler's joint
    (relative) space, so its model is fitted on the free parameters only (a constant
    coordinate carries no information, and it stalled the trust region's geometry).
    On a declared :class:`~ferrotune.SearchSpace` the base sampler proposes the whole
    configuration jointly and the fixed values replace its own; the space's conditions
    and constraints are checked on the result.

    Args:
        fixed_params: Parameter name -> the value every trial takes.
        base_sampler: The sampler of the other parameters (any sampler; ferrotune's
            Rust samplers keep their fast path).

    Raises:
        InvalidArgumentError: ``fixed_params`` is not a mapping, or ``base_sampler`` is
            not a :class:`BaseSampler`.

    Example:
        >>> tpe = ferrotune.samplers.TPESampler(seed=0)
        >>> sampler = PartialFixedSampler({"y": 0}, tpe)
        >>> study = ferrotune.create_study(sampler=sampler)  # doctest: +SKIP
    """

    def __init__(self, fixed_params: Mapping[str, Any], base_sampler: BaseSampler) -> None:
        if not isinstance(fixed_params, Mapping):
            raise InvalidArgumentError(
                f"fixed_params must be a mapping name -> value, got {type(fixed_params).__name__}"
            )
        if not isinstance(base_sampler, BaseSampler):
            raise InvalidArgumentError(
                f"base_sampler must be a BaseSampler, got {type(base_sampler).__name__}"
            )
        self._fixed_params = dict(fixed_params)
        self._base_sampler = base_sampler

    # Its own before_trial sets the fixed values: the study always calls it.
    _needs_before_trial = True

    @property
    def _delegate(self) -> BaseSampler:
        return self._base_sampler

    @property
    def _held_params(self) -> tuple[str, ...]:
        inner = tuple(getattr(self._base_sampler, "_held_params", ()))
        return tuple(self._fixed_params) + inner

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._base_sampler.before_trial(study, trial)
        # The fixed values join the trial's fixed values (grid points of a base
        # GridSampler among them); enqueued values keep precedence.
        enqueued = trial.system_attrs.get(FIXED_PARAMS_KEY, {})
        fixed = study.get_fixed_params(trial.number) or {}
        for name, value in self._fixed_params.items():
            if name not in enqueued:
                fixed[name] = value
        study.set_fixed_params(trial.number, fixed)

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        space = self._base_sampler.infer_relative_search_space(study, trial)
        return {k: d for k, d in space.items() if k not in self._fixed_params}

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        base = self._base_sampler
        if isinstance(base, _RustModelSampler) and not _user_overrides(base, "sample_independent"):
            # The model lives in the study's core (it is the core's sampler).
            internal = study.core.sample_independent(
                trial.number, param_name, param_distribution._core
            )
            return param_distribution.to_external_repr(internal)
        return base.sample_independent(study, trial, param_name, param_distribution)

    def __repr__(self) -> str:
        return (
            f"PartialFixedSampler(fixed_params={self._fixed_params}, "
            f"base_sampler={type(self._base_sampler).__name__})"
        )
