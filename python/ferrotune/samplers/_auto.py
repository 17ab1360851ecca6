from __future__ import annotations

import logging
import math
import numbers
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ferrotune.distributions import FloatDistribution, IntDistribution
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers._base import (
    BaseSampler,
    _DelegatingSampler,
    _seed_or_random,
    check_flag,
)

if TYPE_CHECKING:
    from ferrotune._search_space import SearchSpace
    from ferrotune.distributions import BaseDistribution
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial

__all__ = ["AutoSampler"]

_logger = logging.getLogger("ferrotune")
_MASK = 0xFFFF_FFFF_FFFF_FFFF
# The GP phase (AutoSampler's rule 4): its length below and from _HIGH_DIM parameters,
# and the trials it always runs before it may end for a stall.
_GP_TRIALS = 200
_GP_TRIALS_HIGH_DIM = 100
_HIGH_DIM = 10
_MIN_GP_TRIALS = 30
# With categorical parameters or several objectives: TPE after 200 GP trials and CatCMA
# warm-started from them (numeric parameters only) both stalled on categorical Ackley-20,
# where the GP improved; NSGA-II after 100 GP trials did not improve the GP's front on ZDT1/2
# in 400 trials (benches/auto_mo.py).
_GP_TRIALS_LONG = 1000
# WS-CMA-ES's alpha: the least step size of the warm start (normalised space).
_WARM_ALPHA = 0.1
# GPSampler's options below _HIGH_DIM numeric parameters, and from it on (benches/auto_rules.py:
# the power transform helped on Rosenbrock, Ackley, Dixon-Price and Styblinski-Tang in 10-D
# and hurt on Griewank and Levy). Both are pinned rather than left to GPSampler's defaults:
# the rules and their evidence were measured with these models (no input warping), and a
# change of GPSampler's defaults must not change AutoSampler unmeasured.
_GP_OPTIONS: dict[str, Any] = {"input_warping": False, "output_transform": None}
_GP_OPTIONS_HIGH_DIM: dict[str, Any] = {"input_warping": False, "output_transform": "power"}
# With categorical parameters, one objective and no black-box constraints: the power
# transform for the GP phase's first _CAT_POWER_TRIALS trials, the plain GP after them
# (benches/README.md, "the power transform for the first 100 trials of categorical spaces":
# it found Func2C's and Func3C's categorical optimum far sooner; kept to the end it held
# `mixed` on a wrong choice, which the plain GP leaves once it takes over).
_GP_OPTIONS_CATEGORICAL_START: dict[str, Any] = {
    "input_warping": False,
    "output_transform": "power",
}
_CAT_POWER_TRIALS = 100
_GP_KINDS = ("gp", "gp-high", "gp-power")
# The local phase (rule 3) on numeric spaces.
_TRUST = "trust"
# Samplers never left (but for a define-by-run conditional space, which goes to TPE).
_FINAL = ("tpe-conditional",)


class AutoSampler(_DelegatingSampler):
    """Chooses, and switches between, ferrotune's samplers by the study's space and progress.

    Each trial is sampled by one inner sampler, chosen before the trial from what the
    study shows at that moment (the rules below, in order; the first that applies wins).
    ``d`` is the number of parameters, ``n`` the number of trials started so far.
    It is the study's default sampler (``create_study()`` without ``sampler=``; Optuna's
    default is TPE).

    1. **Define-by-run conditional or changing parameters** (trials whose parameter names
       or distributions differ): :class:`TPESampler` (multivariate, constant liar), kept
       from then on. (A declared :class:`~ferrotune.SearchSpace` with conditions is
       modelled whole by the GP, which did better there: rules 4 and 5.)
    2. **Several objectives**: :class:`GPSampler` (ParEGO) while ``n <= gp_trials``
       (1,000 by default), then :class:`NSGAIISampler` (:class:`NSGAIIISampler` from four
       objectives).
    3. **A numeric space** (float and int parameters only) without conditions or
       black-box constraints (``constraints_func``, or constraint values reported by
       trials): :class:`TrustRegionSampler` from the first trial on, with its random
       restarts, never left while the space stays so (a declared space's hard constraints
       are kept by it). The first trial of a define-by-run study is the trust region's
       (the centre of each numeric range, a categorical choice at random); when it shows
       a categorical parameter, the rules below take over from trial 1.
       ``trust_region=False`` leaves numeric spaces to rules 4-6.
    4. **The GP phase**: :class:`GPSampler` (without input warping or output transform,
       whatever GPSampler's defaults, as these rules were measured) while
       ``n <= gp_trials``: by default 200 for fewer than 10 numeric parameters; 100 from 10
       on, with the power output transform (``output_transform="power"``; it takes over
       once a trial shows the parameters);
       1,000 when there are categorical parameters, where with one objective and no
       black-box constraints the study's trials up to 99 use the power output transform
       too (then the plain GP, fitted on every trial). On a space of numeric parameters the
       phase also ends when the best value has not improved for ``patience`` trials (40)
       after at least 30.
    5. **After it, with categorical parameters, black-box constraints**
       (``constraints_func``, or constraint values reported by trials) **or a declared
       space with conditions**: :class:`TPESampler` (CMA-ES has no constraint model, draws
       conditional parameters at random, and its warm start carries numeric parameters
       only).
    6. **After it, otherwise**: :class:`CmaEsSampler`, warm-started from the trials so
       far as Nomura et al. 2021 ("Warm Starting CMA-ES for Hyperparameter
       Optimization", AAAI) do: the top ``gamma = 10%`` of the complete trials (at
       least ``popsize``) give the initial step size
       ``sigma0 = prod_i (s_i^2 + alpha^2)^(1/2d)`` with ``alpha = 0.1`` (``s_i``: their
       standard deviation in dimension ``i`` of the normalised space), and the best trial
       is the initial mean.

    Rule 3's evidence (``benches/suite.py``, 20 seeds, the suite's 20 numeric problems at
    50 and 200 trials and, from 10 parameters, 1,000): against the rules without it
    (``trust_region=False``: the GP, then CMA-ES) AutoSampler won 43, tied 6 and lost 4
    of 53 (problem, budget) pairs (the losses: Schwefel-10 at 50 and 200, Ackley-10 and
    the mixed-integer Rosenbrock at 1,000; measured with the trust region's earlier
    design, BOBYQA's); against Nevergrad's NGOpt, whose COBYLA won most of these pairs
    before, 29 / 6 / 5 of 40 at 50 and 200 trials (the losses: Schwefel and Michalewicz-5
    at 50 and 200, 40-D Sum Squares at 50). The tables are in ``benches/README.md``
    ("TrustRegionSampler", "the trust region's second neighbourhood", "greedy
    design"). No measured feature of the space told the losing problems apart before
    the run.

    The power transform for the categorical GP phase's first trials (rule 4), on the
    suite's seven categorical and conditional problems at 50 and 200 trials (20 seeds):
    against the plain GP for the whole phase, 5 wins (Func2C at 50, Func3C at 50 and
    200, ``mixed`` at 50, the tabulated digits models at 200), 7 ties and 2 losses far
    below every peer (``mixed`` and the Transformer space at 200: regret 2.4e-4 and
    3.8e-5 against 9.5e-5 and 2.7e-5); kept for the whole phase it held ``mixed`` on a
    wrong choice (benches/README.md, "the power transform for the first 100 trials of
    categorical spaces").

    A switch hands over the history: GP, TPE and NSGA-II fit on every trial of the study;
    CMA-ES starts from the warm start above; the trust region (first only) starts at the
    best trial when there are two or more. The rules, with the measurements that
    support each, are in ``benches/README.md`` ("AutoSampler"). They follow OptunaHub's
    AutoSampler (GP first, CMA-ES warm-started for long numeric runs, TPE for
    define-by-run conditional spaces and constraints, NSGA-II for several objectives)
    and deviate where ferrotune's suite disagrees: categorical parameters and declared
    conditional spaces stay with the GP (its Hamming kernel and declared-space model
    did better than TPE on the suite's categorical and conditional problems); the GP
    phase is shorter from 10 parameters on, with the power transform there, and ends
    early when it stalls (CMA-ES refines faster); the CMA-ES mean is the best trial
    rather than the mean of the top ones.

    The rules choose by the space and the trials so far, not by the budget (which an
    ask-and-tell study does not know): a long GP phase costs the CMA-ES phase
    evaluations at 1,000 trials, a short one costs the GP's lead at 200. In the CMA-ES
    phase they add about 3-4 us per trial to CMA-ES's own cost.

    Parallel workers do not change the choice. Measured with eight workers (rounds of
    eight asks, ``benches/auto_parallel.py``, 10 seeds, 200 trials) with rule 3: on
    10-D Rosenbrock, Hartmann-6 and Styblinski-Tang AutoSampler stays ahead of CMA-ES
    and TPE (median regret 124, 1.8e-7 and 57 against CMA-ES's 517, 0.034 and 104),
    but its regret grows far more than theirs from the sequential run, and on 10-D Levy
    it falls behind CMA-ES (11.6 against 1.8). Before rule 3 (20 seeds, six problems,
    50 and 200 trials) its regret was 0.74-1.94x the sequential one, ahead of TPE on 7
    of 12 pairs and level with CMA-ES (4 wins, 4 losses).

    Which sampler ran from which trial on is logged at INFO level and kept in
    :attr:`switches`. One object passed to another study starts afresh there, as a new
    one would (its phase and inner sampler belong to the study it served; two studies
    taking turns with one object each restart it; two Study objects of one study do
    not). Every worker sharing a study decides
    from the same trials, so workers agree up to trials still running, with one
    exception: the GP phase's early end (``patience``) is kept by the worker that saw the
    stall, while a worker started later decides from the trials then (and may be in the
    GP phase again if a new best arrived since).

    Known limits (from new-user tests, not from the suite):

    - A trial pruned before it suggests every parameter (``raise TrialPruned()`` to skip
      an invalid configuration) narrows the study's intersection space, which counts
      PRUNED trials as Optuna's TPE does; rule 1 then takes the space for a conditional
      one and hands the study to TPE for good. Return a bad value instead, or declare
      the space.
    - The trust region (rule 3) assumes a deterministic objective: with noise as large
      as the differences left to resolve (a 4-D quadratic plus noise of standard
      deviation 2) it refines a lucky point and did no better than random search where
      TPE did 2.5x better; pass ``TPESampler()`` for very noisy objectives.
    - With the optimum on the edge of a region where the objective fails (NaN, an
      exception such as running out of memory), the trust region keeps stepping across
      the edge: on a 2-D problem with the optimum on that line, 85 of 100 trials failed
      (TPE: 33-48), though its regret was lower (0.043 against TPE's 0.13-1.4, 5 seeds).
      Pass ``TPESampler()`` when a failed trial costs as much as a good one.
    - The GP's first ask in a process (a new worker, a loaded or unpickled study) fits
      its hyperparameters from scratch: about 2-3 s at 1,000 trials, then fractions of
      a second per ask.

    Args:
        seed: Seed of the inner samplers (each switch derives its own from it); None
            draws one.
        constraints_func: Optuna's black-box constraints (``<= 0`` feasible), handed to
            the inner samplers that model them (GP, TPE, NSGA-II); see
            :class:`GPSampler`.
        gp_trials: The longest GP phase, in trials started (None: 200 below 10 numeric
            parameters, 100 from 10 on, 1,000 with categorical parameters or several
            objectives).
        patience: Trials without a new best value that end the GP phase early on a
            space of numeric parameters (40); None never ends it early.
        trust_region: Rule 3 (True): numeric spaces go to :class:`TrustRegionSampler`;
            False sends them to the GP phase and CMA-ES as before it.

    Raises:
        InvalidArgumentError: an argument of the wrong type or out of range.

    Example:
        >>> study = ferrotune.create_study(sampler=AutoSampler(seed=0))  # doctest: +SKIP
    """

    _transient = ("_lock", "_served")

    def __init__(
        self,
        *,
        seed: int | None = None,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
        gp_trials: int | None = None,
        patience: int | None = 40,
        trust_region: bool = True,
    ) -> None:
        if constraints_func is not None and not callable(constraints_func):
            raise InvalidArgumentError(
                f"constraints_func must be a callable or None, got {constraints_func!r}"
            )
        for name, value in (("gp_trials", gp_trials), ("patience", patience)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1
            ):
                raise InvalidArgumentError(f"{name} must be an int >= 1 or None, got {value!r}")
        trust_region = check_flag("trust_region", trust_region)
        self._seed = _seed_or_random(seed)
        self._constraints_func = constraints_func
        self._gp_trials = None if gp_trials is None else int(gp_trials)
        self._patience = None if patience is None else int(patience)
        self._trust_region = trust_region
        self._lock = threading.Lock()
        # The core of the study served (not pickled: an unpickled sampler takes the study
        # it meets next as its own when the name matches) and that study's name.
        self._served: Any = None
        self._study_name: str | None = None
        self._where: Any = None
        self._kind = self._first_kind()
        # Inner samplers made so far: each gets its own seed from it (the first choice at
        # trial 0 is not a switch, so the switches alone do not tell them apart).
        self._n_made = 0
        self._inner: BaseSampler = self._make(self._kind, None)
        #: ``(first trial number, sampler name)`` of each switch made in the study served.
        self.switches: list[tuple[int, str]] = []

    def _first_kind(self) -> str:
        return _TRUST if self._trust_region else "gp"

    # The study's hooks are the inner sampler's (_DelegatingSampler); the study reads
    # them again after a switch.
    @property
    def _delegate(self) -> BaseSampler:
        return self._inner

    @property
    def current_sampler(self) -> BaseSampler:
        """The inner sampler now in use."""
        return self._inner

    def _auto_select(self, study: Study, space: SearchSpace | None) -> bool:
        """Chooses the inner sampler for the trial being set up; True when it changed."""
        reset = self._serve(study)
        kind = self._choose(study, space)
        if kind == self._kind:
            return reset
        with self._lock:
            if kind == self._kind:  # another thread switched first
                return reset
            number = study.core.n_trials() - 1
            self._inner = self._make(kind, study)
            self._kind = kind
            name = type(self._inner).__name__
            if number == 0:
                # The first trial's choice (the space and objectives now known), not a switch.
                _logger.debug("AutoSampler: starting with %s", name)
                return True
            self.switches.append((number, name))
        _logger.info("AutoSampler: trials from %d on are sampled by %s", number, name)
        return True

    def _serve(self, study: Study) -> bool:
        """Takes ``study`` as the one served; True when the object, reused for another
        study, started afresh (its phase, inner sampler and switches belonged to the
        other study: a CMA-ES or NSGA-II phase carried over would run the new study on
        the wrong sampler, or refuse it)."""
        core = study.core
        if self._served is core:
            return False
        with self._lock:
            if self._served is core:
                return False
            where = study.location
            # The same study through another Study object (load_study of the same URL
            # or file makes another core), or met again after unpickling, goes on.
            same = self._study_name == study.study_name and (
                self._served is None or self._where == where
            )
            fresh = self._study_name is not None and not same
            if fresh:
                self._kind = self._first_kind()
                self._inner = self._make(self._kind, None)
                self.switches = []
            self._served, self._study_name, self._where = core, study.study_name, where
            return fresh

    # ------------------------------------------------------------------- the rules
    def _choose(self, study: Study, space: SearchSpace | None) -> str:
        if self._kind in _FINAL:
            return self._kind
        core = study.core
        if space is None and _changing_parameters(core):
            return "tpe-conditional"
        dists = space.distributions if space is not None else study.intersection_search_space()
        if self._kind == _TRUST and self._trust_eligible(study, space, dists):
            return _TRUST
        if self._kind not in _GP_KINDS and self._kind != _TRUST:
            return self._kind  # after the GP phase, kept
        if self._in_gp_phase(study, dists):
            high = (
                len(dists) >= _HIGH_DIM
                and _numeric(dists)
                and len(study.directions) == 1
                and bool(_GP_OPTIONS_HIGH_DIM)
            )
            if high:
                return "gp-high"
            if (
                not _numeric(dists)
                and len(study.directions) == 1
                and core.n_trials() <= _CAT_POWER_TRIALS
                and self._constraints_func is None
                and not any(core.all_constraints())
            ):
                return "gp-power"
            return "gp"
        n_objectives = len(study.directions)
        if n_objectives > 1:
            return "nsgaii" if n_objectives < 4 else "nsgaiii"
        conditional = space is not None and bool(space.conditions)
        if (
            conditional
            or not _numeric(dists)
            or self._constraints_func is not None
            or any(core.all_constraints())
        ):
            return "tpe"
        return "cmaes"

    def _trust_eligible(
        self, study: Study, space: SearchSpace | None, dists: Mapping[str, BaseDistribution]
    ) -> bool:
        """Rule 3: a numeric single-objective space without conditions or black-box
        constraints (an empty space, before the first trial shows it, qualifies)."""
        return (
            self._trust_region
            and _numeric(dists)
            and len(study.directions) == 1
            and not (space is not None and space.conditions)
            and self._constraints_func is None
            and not any(study.core.all_constraints())
        )

    def _in_gp_phase(self, study: Study, dists: Mapping[str, BaseDistribution]) -> bool:
        core = study.core
        started = core.n_trials()
        numeric = _numeric(dists)
        cap = self._gp_trials
        if cap is None and (not numeric or len(study.directions) > 1):
            cap = _GP_TRIALS_LONG
        elif cap is None:
            cap = _GP_TRIALS_HIGH_DIM if len(dists) >= _HIGH_DIM else _GP_TRIALS
        if started > cap:
            return False
        if self._patience is None or started <= _MIN_GP_TRIALS or len(study.directions) > 1:
            return True
        best = core.best_trial(study.direction.name == "MAXIMIZE")
        stalled = best is not None and started - 1 - best >= self._patience
        return not (numeric and stalled)

    def _make(self, kind: str, study: Study | None) -> BaseSampler:
        from ferrotune.samplers import (
            GPSampler,
            NSGAIIISampler,
            NSGAIISampler,
            TPESampler,
        )

        # Each inner sampler gets its own seed, the same in every run with this seed. (Seeded
        # by the number of switches, the sampler chosen at trial 0 shared the seed of the one
        # made before it and repeated its first draws: trial 1 was trial 0 again.)
        self._n_made = getattr(self, "_n_made", 0) + 1
        seed = (self._seed + 0x9E37_79B9_7F4A_7C15 * self._n_made) & _MASK
        cf = self._constraints_func
        if kind == _TRUST:
            from ferrotune.samplers import TrustRegionSampler

            return TrustRegionSampler(seed=seed)
        if kind == "gp":
            return GPSampler(seed=seed, constraints_func=cf, **_GP_OPTIONS)
        if kind == "gp-high":
            return GPSampler(seed=seed, constraints_func=cf, **_GP_OPTIONS_HIGH_DIM)
        if kind == "gp-power":
            return GPSampler(seed=seed, constraints_func=cf, **_GP_OPTIONS_CATEGORICAL_START)
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

    def reseed_rng(self) -> None:
        """Re-seeds the inner sampler and the seeds of later switches from the OS."""
        self._seed = _seed_or_random(None)
        self._inner.reseed_rng()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in self._transient}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._served = None
        self.__dict__.setdefault("_study_name", None)
        self.__dict__.setdefault("_where", None)

    def __repr__(self) -> str:
        return f"AutoSampler(current={type(self._inner).__name__})"


def _numeric(dists: Mapping[str, BaseDistribution]) -> bool:
    return all(isinstance(d, (FloatDistribution, IntDistribution)) for d in dists.values())


def _changing_parameters(core: Any) -> bool:
    """Whether define-by-run trials differ in their parameters (names or distributions):
    conditional parameters, or ranges that change."""
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
    """CMA-ES warm-started from the study's complete trials (see AutoSampler, rule 6)."""
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
        log_sigma += 0.5 * math.log(var + _WARM_ALPHA**2)
    sigma0 = math.exp(log_sigma / d)
    x0 = {n: trials[0].params[n] for n in numeric}
    return CmaEsSampler(x0=x0, sigma0=sigma0, seed=seed)
