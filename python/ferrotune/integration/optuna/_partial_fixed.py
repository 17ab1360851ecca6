"""ferrotune's partial-fixed sampler as an Optuna sampler."""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from ferrotune import samplers as _native
from ferrotune.exceptions import InvalidArgumentError

__all__ = ["PartialFixedSampler"]

_logger = logging.getLogger(__name__)


class PartialFixedSampler(optuna.samplers.BaseSampler):
    """ferrotune's :class:`~ferrotune.samplers.PartialFixedSampler` as an Optuna sampler:
    fixes some parameters and lets ``base_sampler`` choose the others.

    Every trial takes the fixed values (an enqueued value takes precedence, as in
    Optuna); the other parameters come from ``base_sampler``, whose joint (relative)
    space leaves the fixed parameters out, and whose hooks (``before_trial``,
    ``after_trial``, ``reseed_rng``) are called as usual. With a ferrotune adapter as the
    base and the same seed, a study proposes what a ferrotune study with the native
    classes proposes.

    Args:
        fixed_params: Parameter name -> the value every trial takes.
        base_sampler: The sampler of the other parameters: an adapter of this module or
            any Optuna sampler.

    Raises:
        InvalidArgumentError: ``fixed_params`` is not a mapping, or ``base_sampler`` is
            not an ``optuna.samplers.BaseSampler``.

    Deviation from the ferrotune class, following Optuna: a fixed value outside the
    distribution suggested for it is recorded as given, with a warning (the ferrotune
    class records the distribution's nearest value).
    """

    def __init__(
        self, fixed_params: Mapping[str, Any], base_sampler: optuna.samplers.BaseSampler
    ) -> None:
        if not isinstance(fixed_params, Mapping):
            raise InvalidArgumentError(
                f"fixed_params must be a mapping name -> value, got {type(fixed_params).__name__}"
            )
        if not isinstance(base_sampler, optuna.samplers.BaseSampler):
            raise InvalidArgumentError(
                "base_sampler must be an optuna.samplers.BaseSampler (an adapter of "
                f"ferrotune.integration.optuna or Optuna's), got {type(base_sampler).__name__}"
            )
        self._fixed_params = dict(fixed_params)
        self._base_sampler = base_sampler

    def _held(self) -> Any:
        """A ferrotune adapter's joint model leaves the fixed parameters out while it
        works for this wrapper (a null context for another base sampler)."""
        holding = getattr(self._base_sampler, "_holding", None)
        if holding is None:
            return contextlib.nullcontext()
        return holding(tuple(self._fixed_params))

    def reseed_rng(self) -> None:
        self._base_sampler.reseed_rng()

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        with self._held():
            self._base_sampler.before_trial(study, trial)

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        space = self._base_sampler.infer_relative_search_space(study, trial)
        return {n: d for n, d in space.items() if n not in self._fixed_params}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        with self._held():
            return self._base_sampler.sample_relative(study, trial, search_space)

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        if param_name not in self._fixed_params:
            return self._base_sampler.sample_independent(
                study, trial, param_name, param_distribution
            )
        value = self._fixed_params[param_name]
        try:
            inside = param_distribution._contains(param_distribution.to_internal_repr(value))
        except (ValueError, TypeError):
            inside = False
        if not inside:
            _logger.warning(
                f"PartialFixedSampler: fixed value {value!r} of parameter {param_name!r} is "
                f"outside {param_distribution}; it is used anyway, as in Optuna"
            )
        return value

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self._base_sampler.after_trial(study, trial, state, values)

    def __repr__(self) -> str:
        return (
            f"ferrotune.integration.optuna.PartialFixedSampler(fixed_params="
            f"{self._fixed_params}, base_sampler={self._base_sampler!r})"
        )


# help() and inspect show the native constructor's arguments.
PartialFixedSampler.__signature__ = inspect.signature(  # type: ignore[attr-defined]
    _native.PartialFixedSampler
)
