from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers._base import (
    BaseSampler,
    _RustModelSampler,
    _seed_or_random,
    check_flag,
    check_size,
)
from ferrotune.samplers._random import RandomSampler

__all__ = ["CmaEsSampler"]


def _positive_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InvalidArgumentError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _flag(name: str, value: Any) -> bool:
    return check_flag(name, value)


class CmaEsSampler(_RustModelSampler):
    """CMA-ES (Hansen, "The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772), in Rust.

    The parameters of the intersection search space (those every finished trial has,
    with the same distribution) are sampled jointly from a multivariate normal
    distribution whose mean, step size and covariance follow the tutorial's update,
    one generation of ``popsize`` trials at a time. The search runs in a normalised
    space, as Optuna's: each parameter in [0, 1], log parameters in log space, integer
    and stepped ones widened by half a step; samples outside [0, 1] are drawn again
    (up to 10 times the dimension) and then clipped. Parameters outside the relative
    space are drawn uniformly at random.

    **Generations live in the study.** Each proposal is tagged with its generation and
    its sample (trial system attribute ``ferrotune:tag``); every sampler sharing the
    study (``n_jobs`` threads, worker processes on one storage, a resumed study)
    rebuilds the same distribution from the finished trials, independently of its
    seed. A generation is told once its first ``popsize`` trials (in trial-number
    order) with a value are in; a FAILED trial (or PRUNED, unless
    ``consider_pruned_trials``) is replaced by the next trial asked, so it never
    stalls a generation. Trials asked while a full generation is still running are
    extras of that generation: they replace a member that fails, or else join the
    next generation as injected solutions, their step clipped to a typical length
    (Hansen 2011, "Injecting External Solutions Into CMA-ES"), so parallel workers
    waste no evaluation. Trials without a tag (enqueued values, another sampler's trials) are left
    out; where an enqueued value replaces a proposed one, the update uses the value
    evaluated.

    **Categorical parameters are modelled** (CatCMA, Hamano et al. 2024): each gets a
    categorical distribution updated jointly with the Gaussian from the same ranking,
    with CatCMA's margin so no category's probability vanishes. Optuna's sampler
    leaves them to its independent sampler; ``model_categorical=False`` does the same.
    A relative space without numeric parameters is sampled at random, as in Optuna.

    **Declared spaces** (``study.ask(space)``): the unconditional parameters are
    modelled; conditional ones are drawn uniformly. A draw that violates a hard
    constraint is replaced by another draw from the same distribution (up to the
    space's ``max_draws``); if none is valid, uniform draws from the feasible set are
    used instead, untagged, so they do not enter the update. No constraint is ever
    violated.

    Args:
        x0: Initial mean as ``{name: value}``; the centre of each range by default.
        sigma0: Initial step size in the normalised space; by default a sixth of the
            smallest (normalised) range, 1/6, as Optuna.
        n_startup_trials: Trials sampled at random before CMA-ES starts (default 1).
        independent_sampler: None or a :class:`RandomSampler` (parameters outside the
            relative space are drawn uniformly in Rust, from this sampler's seed).
        warn_independent_sampling: Accepted for compatibility; ferrotune does not log
            each independent draw.
        seed: Seed of the samples. The distribution itself does not depend on it.
        consider_pruned_trials: Use PRUNED trials with their last reported value.
        restart_strategy: None (default: go on after convergence, as Optuna), ``"ipop"``
            (Auger and Hansen 2005: restart with the population times ``inc_popsize``)
            or ``"bipop"`` (Hansen 2009: alternate large populations, growing by
            ``inc_popsize``, and small ones with smaller steps, by evaluations spent).
            A run restarts from a uniform random mean when a termination criterion of
            the tutorial holds: TolFun/TolHistFun (range of best and worst values of
            the last 10 + 30n/popsize generations below 1e-12), EqualFunValues (their
            best values all equal), TolX (sigma * sqrt(C_ii) and sigma * p_c below
            1e-12 sigma0), TolXUp (sigma * max(D) above 1e4 sigma0), NoEffectCoord,
            NoEffectAxis and ConditionCov (condition number of C above 1e14).
        popsize: Population size; 4 + floor(3 ln d) by default (d: dimensions,
            categorical ones included).
        inc_popsize: Factor of the population at each IPOP / large BIPOP restart (2; at
            most 100; ``popsize`` at most 100,000).
        use_separable_cma: Diagonal covariance (sep-CMA-ES, Ros and Hansen 2008), with
            its learning rates times (d + 2) / 3.
        with_margin: For integer and stepped parameters, keep the probability of
            leaving the current grid value at least 1 / (d * popsize) (CMA-ES with
            margin, Hamano et al. 2022). Log-scaled integers get the margin too (Optuna
            treats them as continuous), on their grid in log space.
        lr_adapt: Adapt the learning rates of the mean and covariance to the
            signal-to-noise ratio of their updates (Nomura et al. 2023); for multimodal
            and noisy problems.
        source_trials: Only None: warm starting is not supported.
        model_categorical: Model categorical parameters with CatCMA (default True).

    Deviations from Optuna: categorical parameters are modelled; IPOP/BIPOP restarts
    are built in (Optuna 4.4 removed them); generation state is shared through trial
    tags, so parallel workers waste no evaluations on stale generations; the
    independent sampler is always uniform random; ``source_trials`` (warm starting)
    is not supported.

    Example:
        >>> sampler = CmaEsSampler(seed=0, restart_strategy="bipop")  # doctest: +SKIP
        >>> study = ferrotune.create_study(sampler=sampler)  # doctest: +SKIP
    """

    def __init__(
        self,
        x0: Mapping[str, Any] | None = None,
        sigma0: float | None = None,
        n_startup_trials: int = 1,
        independent_sampler: BaseSampler | None = None,
        warn_independent_sampling: bool = True,
        seed: int | None = None,
        *,
        consider_pruned_trials: bool = False,
        restart_strategy: str | None = None,
        popsize: int | None = None,
        inc_popsize: int = 2,
        use_separable_cma: bool = False,
        with_margin: bool = False,
        lr_adapt: bool = False,
        source_trials: Any = None,
        model_categorical: bool = True,
    ) -> None:
        if source_trials is not None:
            raise InvalidArgumentError(
                "source_trials (warm starting) is not supported by ferrotune's CmaEsSampler"
            )
        if x0 is not None and not isinstance(x0, Mapping):
            raise InvalidArgumentError(f"x0 must be a mapping name -> value, got {x0!r}")
        self._x0: list[tuple[str, float]] = []
        for name, v in (x0 or {}).items():
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise InvalidArgumentError(f"x0[{name!r}] must be a finite number, got {v!r}")
            self._x0.append((str(name), float(v)))
        if sigma0 is not None and (
            isinstance(sigma0, bool)
            or not isinstance(sigma0, (int, float))
            or not (math.isfinite(sigma0) and sigma0 > 0)
        ):
            raise InvalidArgumentError(f"sigma0 must be a positive number, got {sigma0!r}")
        self._sigma0 = None if sigma0 is None else float(sigma0)
        self._n_startup_trials = _positive_int("n_startup_trials", n_startup_trials, 0)
        if independent_sampler is not None and not isinstance(independent_sampler, RandomSampler):
            raise InvalidArgumentError(
                "independent_sampler must be None or a RandomSampler, got "
                f"{type(independent_sampler).__name__}"
            )
        self._warn_independent_sampling = _flag(
            "warn_independent_sampling", warn_independent_sampling
        )
        if restart_strategy not in (None, "ipop", "bipop"):
            raise InvalidArgumentError(
                f'restart_strategy must be None, "ipop" or "bipop", got {restart_strategy!r}'
            )
        self._restart_strategy = restart_strategy
        self._popsize = None if popsize is None else check_size("popsize", popsize, 2)
        self._inc_popsize = check_size("inc_popsize", inc_popsize, 1, 100)
        self._consider_pruned_trials = _flag("consider_pruned_trials", consider_pruned_trials)
        self._use_separable_cma = _flag("use_separable_cma", use_separable_cma)
        self._with_margin = _flag("with_margin", with_margin)
        self._lr_adapt = _flag("lr_adapt", lr_adapt)
        self._model_categorical = _flag("model_categorical", model_categorical)
        if lr_adapt and (use_separable_cma or with_margin):
            raise InvalidArgumentError(
                "lr_adapt cannot be combined with use_separable_cma or with_margin"
            )
        if use_separable_cma and with_margin:
            raise InvalidArgumentError("use_separable_cma and with_margin cannot be combined")
        self._seed = _seed_or_random(seed)
        self._rust = self._build()

    def _build(self) -> _core.CmaEsSamplerCore:
        return _core.CmaEsSamplerCore(
            self._x0,
            self._sigma0,
            self._n_startup_trials,
            self._popsize,
            self._consider_pruned_trials,
            self._restart_strategy,
            self._inc_popsize,
            self._use_separable_cma,
            self._with_margin,
            self._lr_adapt,
            self._model_categorical,
            self._seed,
        )
