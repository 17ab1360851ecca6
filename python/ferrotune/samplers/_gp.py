from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers._base import (
    _RustModelSampler,
    _seed_or_random,
)

if TYPE_CHECKING:
    from ferrotune.trial import FrozenTrial

__all__ = ["GPSampler"]

_ACQUISITIONS = ("logei", "ei", "pi", "ucb")


class GPSampler(_RustModelSampler):
    """Gaussian-process Bayesian optimisation, with the model and its search in Rust.

    After ``n_startup_trials`` COMPLETE trials (seeded uniform draws until then), each
    trial fits a Gaussian process to the COMPLETE trials over the intersection search
    space (single-valued parameters skipped) and returns the point that maximises the
    acquisition function.

    Model: inputs mapped to ``[0, 1]`` (log scale for log parameters; ints and stepped
    floats widened by half a step), categoricals as choice indices under a Hamming
    kernel term; outputs standardised (maximised objectives negated). Kernel: Matérn
    5/2 with one lengthscale per dimension times the categorical term, a signal
    variance and a noise variance. Hyperparameters by maximum a posteriori under
    the priors ``-log p(l) = 0.1 (l² + 1/l²)`` for the lengthscale ``l`` of every
    float or int dimension (mode 1, the width of the unit cube; nearly flat on
    ``[0.3, 3]``, steep outside), ``log(l) ~ N(√2 + log(d)/2, 3)`` (Hvarfner,
    Hellsten & Nardi 2024) for the Hamming term of categoricals, which needs long
    lengthscales to ignore an irrelevant one, ``log(signal variance) ~ N(0, 1)``,
    ``log(noise variance) ~ N(-6, 1)`` with a floor of ``1e-6`` (held at ``1e-6``
    when ``deterministic_objective``), optimised by projected L-BFGS with analytic
    gradients. The dimension-scaled Hvarfner et al. prior on every lengthscale,
    used before, let the fit end with some lengthscales near ``1e-3``, a model close
    to white noise; with it the noise prior had to be ``N(-10, 1)`` so that sharp
    optima were not explained away as noise. Measured over seeds 0-9 (median
    regret, old priors → two-sided lengthscale prior with the old noise prior →
    noise ``N(-6, 1)``): 10-D Levy at 150 trials 7.3 → 3.8 → 1.7, 10-D Ackley at
    150 trials 10.4 → 4.6 → 6.3, Hartmann6 at 50 trials 0.46 → 0.004 → 0.009. While
    all observed values are equal there is nothing to model and trials are drawn
    uniformly.

    Refit schedule: a warm-started MAP refit on every trial up to 200 observations;
    beyond, a warm refit once the data have grown by 5% since the last one, with
    O(n²) Cholesky appends in between; a multi-start fit (prior mode, two prior draws,
    the previous fit) whenever the number of observations has doubled (beyond 256
    observations the starts run on a random subset of 256 and only the best is refined
    on all the data, since each likelihood evaluation costs O(n³)). The
    hyperparameters are kept between trials and across pickling (an unpickled sampler
    refits once, warm-started from them, and keeps the refit schedule).

    Acquisition search: 2048 scrambled Sobol points plus 256 perturbations of the best
    observed points, scored in one batch (the Sobol points are drawn afresh at every
    refit and kept between refits, while the model only gains observations, so that
    their posterior is updated in O(n) each rather than recomputed in O(n²): a
    deviation from Optuna, which draws new points every trial; the perturbations are
    new every trial); ten local searches (on two threads from 32 observations), from
    the best of them and from nine drawn without replacement with probability
    proportional to their acquisition relative to the best's (``exp`` of the difference
    for LogEI), each projected L-BFGS on the continuous parameters (discrete ones held), then a
    coordinate-wise search over the two neighbouring grid values on each side of integer
    and stepped parameters and every choice of categoricals (up to 32 choices, else 32
    random ones). RUNNING trials of other workers are added as observations equal to the
    posterior mean at their points (Kriging believer), so ``n_jobs > 1`` spreads out.

    On a declared :class:`~ferrotune.SearchSpace` the model covers all of the space's
    parameters (inactive ones left out of the kernel's distance) and only feasible
    configurations (the space's constraints and predicates) are scored, so the sampler
    never proposes an infeasible one. Several objectives are scalarised each trial by
    ParEGO's augmented Chebyshev function with random weights (Knowles 2006).
    Parameters outside the modelled space are drawn uniformly (seeded).

    Black-box constraints, reported with :meth:`Trial.set_constraint
    <ferrotune.Trial.set_constraint>` or returned by ``constraints_func`` (``<= 0``
    feasible), are always modelled: one Gaussian process per constraint, fitted like the
    objective's (same kernel, priors and refit schedule, hyperparameters kept per
    constraint) on the trials that report a finite value for it. The acquisition gains
    ``Σ_k log P(c_k(x) <= 0)`` under those models (Gardner et al. 2014, "Bayesian
    Optimization with Inequality Constraints"): added to LogEI; EI and PI are
    multiplied by the probability of feasibility; UCB, which has no such product, gets
    the sum added to the bound measured in standard deviations of the objective, a soft
    penalty near 0 where feasibility is near-certain. The incumbent of LogEI, EI and PI
    is the best *feasible* value; while no trial is feasible, the probability of
    feasibility alone is maximised. Constraints are matched by name order (the sorted
    names of ``set_constraint``; ``c0, c1, ...`` of ``constraints_func``): a trial that
    reported fewer constraints than others is left out of the constraint models. A
    constraint whose values are all equal carries nothing to model and is ignored.

    An infinite objective value is modelled as the worst (``inf`` when minimising) or
    best finite value observed for that objective, as Optuna's ``GPSampler`` does, so
    that its region is learnt as bad rather than ignored.

    Deviations from Optuna's ``GPSampler``: no PyTorch; the acquisition is selectable
    (Optuna uses LogEI only); conditional and declared spaces are modelled instead of
    falling back to random sampling; categoricals use a Hamming kernel on the choice
    index rather than one-hot inputs; the lengthscale prior of floats and ints is
    Optuna's penalty on inverse squared lengthscales (categoricals keep the Hvarfner et
    al. prior), but the signal and noise variances have log-normal priors rather than
    Optuna's gamma priors; the ten local searches of the acquisition start from 2304
    scored candidates rather than 2048 random points, and not from the best observed
    point (where PI and UCB could stall); ``independent_sampler`` and
    ``warn_independent_sampling`` are not accepted; with several objectives constraints
    weight the ParEGO scalarisation's LogEI rather than Optuna's constrained LogEHVI; a
    trial with constraint values of a different count than others is left out of the
    constraint models rather than raising, and one that reported none counts as feasible
    (as for :attr:`Study.best_trial <ferrotune.Study.best_trial>`).

    Args:
        acquisition: ``"logei"`` (LogEI of Ament et al. 2023, the default), ``"ei"``,
            ``"pi"`` or ``"ucb"``.
        beta: UCB's exploration weight β (``mean - √β stddev`` for a minimised objective);
            None uses the schedule of Srinivas et al. 2010,
            ``β_t = 2 log(d t² π² / (6 · 0.1))``. Only allowed with ``"ucb"``.
        n_startup_trials: COMPLETE trials drawn uniformly before the model is used (10).
        deterministic_objective: Hold the noise variance at ``1e-6`` (of the
            standardised output variance) instead of fitting it (False).
        seed: Seed of the generator; None draws one.
        constraints_func: Optuna's way to give black-box constraints (None): called with
            each trial that finishes COMPLETE or PRUNED, it returns a sequence of
            constraint values (``<= 0`` feasible), stored as if reported with
            ``Trial.set_constraint`` under the names ``c0, c1, ...``. A result that is
            not a sequence of numbers, or holds a NaN, raises
            :class:`~ferrotune.exceptions.InvalidArgumentError`.

    Example:
        >>> sampler = GPSampler(seed=0)
        >>> study = ferrotune.create_study(sampler=sampler)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        acquisition: Literal["logei", "ei", "pi", "ucb"] = "logei",
        beta: float | None = None,
        n_startup_trials: int = 10,
        deterministic_objective: bool = False,
        seed: int | None = None,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
    ) -> None:
        if acquisition not in _ACQUISITIONS:
            raise InvalidArgumentError(
                f"acquisition must be one of {', '.join(map(repr, _ACQUISITIONS))}, "
                f"got {acquisition!r}"
            )
        if beta is not None:
            if acquisition != "ucb":
                raise InvalidArgumentError("beta is only used with acquisition='ucb'")
            if isinstance(beta, bool) or not isinstance(beta, (int, float)):
                raise InvalidArgumentError(f"beta must be a number or None, got {beta!r}")
            if not (math.isfinite(beta) and beta >= 0):
                raise InvalidArgumentError(f"beta must be finite and >= 0, got {beta!r}")
        if (
            isinstance(n_startup_trials, bool)
            or not isinstance(n_startup_trials, int)
            or n_startup_trials < 0
        ):
            raise InvalidArgumentError(
                f"n_startup_trials must be an int >= 0, got {n_startup_trials!r}"
            )
        if not isinstance(deterministic_objective, bool):
            raise InvalidArgumentError(
                f"deterministic_objective must be a bool, got {deterministic_objective!r}"
            )
        self._config: dict[str, Any] = {
            "acquisition": acquisition,
            "beta": None if beta is None else float(beta),
            "n_startup_trials": n_startup_trials,
            "deterministic_objective": deterministic_objective,
        }
        self._set_constraints_func(constraints_func)
        self._seed = _seed_or_random(seed)
        self._rust = self._build()

    def _build(self) -> _core.GpSamplerCore:
        c = self._config
        return _core.GpSamplerCore(
            c["acquisition"],
            c["beta"],
            c["n_startup_trials"],
            c["deterministic_objective"],
            self._seed,
        )
