from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ferrotune.distributions import FloatDistribution, IntDistribution
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers._base import BaseSampler, _seed_or_random

if TYPE_CHECKING:
    from ferrotune._search_space import SearchSpace
    from ferrotune.distributions import BaseDistribution
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial, TrialState

__all__ = ["AutoSampler"]

_logger = logging.getLogger("ferrotune")
_MASK = 0xFFFF_FFFF_FFFF_FFFF


class AutoSampler(BaseSampler):
    """Chooses, and switches between, ferrotune's samplers by the study's space and progress.

    Each trial is sampled by one inner sampler, chosen before the trial from what the
    study shows at that moment (the rules below, in order; the first that applies wins):

    1. **Conditional or changing parameters** (a declared
       :class:`~ferrotune.SearchSpace` with conditions, or define-by-run trials whose
       parameters differ): :class:`TPESampler` (multivariate, constant liar), kept from
       then on.
    2. **Several objectives**: :class:`GPSampler` (ParEGO) for the first
       ``gp_trials`` trials, then :class:`NSGAIISampler` (:class:`NSGAIIISampler` from
       four objectives).
    3. **The first** ``gp_trials`` **trials**: :class:`GPSampler`.
    4. **Beyond, with black-box constraints** (``constraints_func``, or constraint values
       reported by trials): :class:`TPESampler` (CMA-ES has no constraint model).
    5. **Beyond, otherwise**: :class:`CmaEsSampler` (CatCMA for categorical parameters),
       warm-started from the trials so far as Nomura et al. 2021 ("Warm Starting CMA-ES
       for Hyperparameter Optimization", AAAI) do: the top ``gamma = 10%`` of the complete
       trials (at least ``popsize``) give the initial step size
       ``sigma0 = prod_i (s_i^2 + alpha^2)^(1/2d)`` with ``alpha = 0.1`` (``s_i``: their standard
       deviation in dimension ``i`` of the normalised space), and the best trial is the
       initial mean.

    A switch hands over the history: GP, TPE and NSGA-II fit on every trial of the study;
    CMA-ES starts from the warm start above. The rules, with the measurements that
    support each, are in ``benches/README.md`` ("AutoSampler"). They follow OptunaHub's
    AutoSampler (GP first, CMA-ES for long numeric runs, TPE for conditional spaces)
    where the suite agrees, and deviate where it does not: categorical parameters do
    not force TPE (CatCMA and the GP's Hamming kernel did better on the suite's
    categorical problems), and the CMA-ES mean is the best trial rather than the mean of
    the top ones.

    Which sampler ran from which trial on is logged at INFO level and kept in
    :attr:`switches`. Every worker sharing a study decides from the same trials, so
    workers agree up to trials still running.

    Args:
        seed: Seed of the inner samplers (each switch derives its own from it); None
            draws one.
        constraints_func: Optuna's black-box constraints (``<= 0`` feasible), handed to
            the inner samplers that model them (GP, TPE, NSGA-II); see
            :class:`GPSampler`.
        gp_trials: Trials sampled by the GP before the switch (default 200: where the
            GP's cost per trial is still a few milliseconds and the suite shows CMA-ES
            catching up).

    Raises:
        InvalidArgumentError: an argument of the wrong type or out of range.

    Example:
        >>> study = ferrotune.create_study(sampler=AutoSampler(seed=0))  # doctest: +SKIP
    """

    _transient = ("_lock",)

    def __init__(
        self,
        *,
        seed: int | None = None,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
        gp_trials: int = 200,
    ) -> None:
        if constraints_func is not None and not callable(constraints_func):
            raise InvalidArgumentError(
                f"constraints_func must be a callable or None, got {constraints_func!r}"
            )
        if isinstance(gp_trials, bool) or not isinstance(gp_trials, int) or gp_trials < 0:
            raise InvalidArgumentError(f"gp_trials must be an int >= 0, got {gp_trials!r}")
        self._seed = _seed_or_random(seed)
        self._constraints_func = constraints_func
        self._gp_trials = gp_trials
        self._lock = threading.Lock()
        self._kind = "gp"
        self._inner: BaseSampler = self._make("gp", None)
        #: ``(first trial number, sampler name)`` of each switch this object made.
        self.switches: list[tuple[int, str]] = []

    # -------------------------------------------------------------- the study's hooks
    # The study reads these to choose its paths: the inner sampler's (see BaseSampler).
    @property
    def _rust(self) -> Any:
        return self._inner._rust

    @property
    def _fast_independent(self) -> bool:
        return bool(getattr(self._inner, "_fast_independent", True))

    @property
    def _rust_relative(self) -> bool:
        return bool(getattr(self._inner, "_rust_relative", False))

    @property
    def _needs_before_trial(self) -> bool:
        return _overrides(self._inner, "before_trial")

    @property
    def _needs_after_trial(self) -> bool:
        inner = self._inner
        return bool(getattr(inner, "_needs_after_trial", _overrides(inner, "after_trial")))

    @property
    def _needs_relative(self) -> bool:
        return _overrides(self._inner, "infer_relative_search_space")

    @property
    def current_sampler(self) -> BaseSampler:
        """The inner sampler now in use."""
        return self._inner

    def _auto_select(self, study: Study, space: SearchSpace | None) -> bool:
        """Chooses the inner sampler for the trial being set up; True when it changed."""
        kind = self._choose(study, space)
        if kind == self._kind:
            return False
        with self._lock:
            if kind == self._kind:  # another thread switched first
                return False
            number = study.core.n_trials() - 1
            self._inner = self._make(kind, study)
            self._kind = kind
            self.switches.append((number, type(self._inner).__name__))
        _logger.info("AutoSampler: trials from %d on are sampled by %r", number, self._inner)
        return True

    # ------------------------------------------------------------------- the rules
    def _choose(self, study: Study, space: SearchSpace | None) -> str:
        if self._kind == "tpe-conditional":
            return self._kind
        core = study.core
        if _conditional(core, space):
            return "tpe-conditional"
        n_objectives = len(study.directions)
        started = core.n_trials()
        if started <= self._gp_trials:
            return "gp"
        if n_objectives > 1:
            return "nsgaii" if n_objectives < 4 else "nsgaiii"
        if self._kind in ("tpe", "cmaes"):
            return self._kind
        if self._constraints_func is not None or any(core.all_constraints()):
            return "tpe"
        return "cmaes"

    def _make(self, kind: str, study: Study | None) -> BaseSampler:
        from ferrotune.samplers import (
            GPSampler,
            NSGAIIISampler,
            NSGAIISampler,
            TPESampler,
        )

        # Each switch's sampler gets its own seed, the same in every run with this seed.
        n_switches = len(getattr(self, "switches", ()))
        seed = (self._seed + 0x9E37_79B9_7F4A_7C15 * (n_switches + 1)) & _MASK
        cf = self._constraints_func
        if kind == "gp":
            return GPSampler(seed=seed, constraints_func=cf)
        if kind in ("tpe", "tpe-conditional"):
            return TPESampler(
                seed=seed,
                multivariate=True,
                constant_liar=True,
                constraints_func=cf,
                warn_independent_sampling=False,
            )
        if kind == "nsgaii":
            return NSGAIISampler(seed=seed, constraints_func=cf)
        if kind == "nsgaiii":
            return NSGAIIISampler(seed=seed, constraints_func=cf)
        assert study is not None
        return _warm_cmaes(study, seed)

    # ---------------------------------------------------- delegation (Optuna's hooks)
    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return self._inner.infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return self._inner.sample_relative(study, trial, search_space)

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self._inner.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._inner.before_trial(study, trial)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self._inner.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        """Re-seeds the inner sampler and the seeds of later switches from the OS."""
        self._seed = _seed_or_random(None)
        self._inner.reseed_rng()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in self._transient}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AutoSampler(current={type(self._inner).__name__})"


def _overrides(sampler: BaseSampler, name: str) -> bool:
    return getattr(type(sampler), name) is not getattr(BaseSampler, name)


def _conditional(core: Any, space: SearchSpace | None) -> bool:
    """Whether the space has conditional parameters: declared conditions, or trials whose
    parameters (names or distributions) differ."""
    if space is not None:
        return bool(space.conditions)
    names = core.param_names()
    return bool(names) and len(core.intersection_space()) < len(names) and _any_complete(core)


def _any_complete(core: Any) -> bool:
    # The intersection space is empty until a trial completes.
    return core.best_trial(False) is not None


def _unit(dist: BaseDistribution, value: Any) -> float | None:
    """``value`` in [0, 1] on the distribution's (log) scale; None for a categorical."""
    if not isinstance(dist, (FloatDistribution, IntDistribution)) or dist.single():
        return None
    low, high, v = float(dist.low), float(dist.high), float(value)
    if dist.log:
        low, high, v = math.log(low), math.log(high), math.log(v)
    return (v - low) / (high - low)


def _warm_cmaes(study: Study, seed: int) -> BaseSampler:
    """CMA-ES warm-started from the study's complete trials (see AutoSampler, rule 5)."""
    from ferrotune.samplers import CmaEsSampler
    from ferrotune.trial import TrialState

    space = study.intersection_search_space()
    numeric = {
        n: d
        for n, d in space.items()
        if isinstance(d, (FloatDistribution, IntDistribution)) and not d.single()
    }
    sign = -1.0 if study.direction.name == "MAXIMIZE" else 1.0
    ranked = sorted(
        (sign * t.value, t.number, t)
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if t.value is not None and math.isfinite(t.value) and all(n in t.params for n in numeric)
    )
    trials = [t for _, _, t in ranked]
    if not numeric or not trials:
        return CmaEsSampler(seed=seed)
    d = len(numeric)
    popsize = 4 + int(3 * math.log(d + len(space) - len(numeric)))
    top = trials[: max(popsize, math.ceil(0.1 * len(trials)))]
    log_sigma = 0.0
    for name, dist in numeric.items():
        xs = [_unit(dist, t.params[name]) for t in top]
        mean = sum(x for x in xs if x is not None) / len(xs)
        var = sum((x - mean) ** 2 for x in xs if x is not None) / len(xs)
        log_sigma += 0.5 * math.log(var + 0.1**2)
    sigma0 = math.exp(log_sigma / d)
    x0 = {n: trials[0].params[n] for n in numeric}
    return CmaEsSampler(x0=x0, sigma0=sigma0, seed=seed)
