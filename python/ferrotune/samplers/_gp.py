from __future__ import annotations

import math
import numbers
import struct
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers._base import (
    _RustModelSampler,
    _seed_or_random,
    check_flag,
    check_size,
)

if TYPE_CHECKING:
    from ferrotune.trial import FrozenTrial

__all__ = ["GPSampler"]


def _flag_or_word(name: str, value: Any, word: str) -> Any:
    """``value`` when it is ``word``, else as a bool (numpy's too; not the ints 0 and 1),
    else an InvalidArgumentError naming ``name``."""
    if isinstance(value, str) and value == word:
        return value
    try:
        return check_flag(name, value, ints=False)
    except InvalidArgumentError:
        raise InvalidArgumentError(
            f"{name} must be True, False or {word!r}, got {value!r}"
        ) from None


_ACQUISITIONS = ("logei", "ei", "pi", "ucb")
_OUTPUT_TRANSFORMS = (None, "power", "auto")
# input_warping's values as the core spells them.
_WARPING = {False: "off", True: "on", "auto": "auto"}


class GPSampler(_RustModelSampler):
    """Gaussian-process Bayesian optimisation, with the model and its search in Rust.

    The first ``n_startup_trials`` COMPLETE trials are seeded uniform draws. After them,
    each trial fits a Gaussian process to the COMPLETE trials over the intersection
    search space (single-valued parameters left out) and takes the point that maximises
    the acquisition function. Meant for expensive objectives with few parameters, where
    the model's cost per trial (which grows with the number of trials) is small against
    the objective's.

    Model: inputs scaled to ``[0, 1]`` (log scale for log parameters), categoricals
    compared by a Hamming kernel on the choice index, outputs standardised. The kernel
    is Matérn 5/2 with one lengthscale per dimension (ARD), times the categorical term,
    plus noise. Its hyperparameters are maximum a posteriori estimates (projected L-BFGS
    with analytic gradients; Rasmussen & Williams 2006, ch. 5) under the priors
    ``-log p(l) = 0.1 (l² + 1/l²)`` for float and int lengthscales, the log-normal prior
    of Hvarfner, Hellsten & Nardi (2024) for the categorical term, ``log σ²_f ~ N(0, 1)``
    for the signal and ``log σ²_n ~ N(-6, 1)`` (floor ``1e-6``) for the noise. While all
    observed values are equal there is nothing to model and trials are drawn uniformly.

    Refit schedule: a warm-started refit on every trial up to 200 observations, then each
    time the data have grown by 5% (cheap Cholesky updates in between), and a multi-start
    fit whenever the number of observations has doubled.

    Acquisition search: 2048 scrambled Sobol points and 256 perturbations of the best
    observed points are scored, then ten local searches (L-BFGS on the continuous
    parameters, a neighbour search on discrete ones) start from the best candidate and
    from nine others drawn in proportion to their acquisition.
    RUNNING trials of other workers count as observations at their posterior mean
    (Kriging believer, Ginsbourger et al. 2010), in the incumbent of the acquisition too,
    so parallel workers (``n_jobs > 1``) spread out.

    On a declared :class:`~ferrotune.SearchSpace` the model covers every parameter of the
    space (inactive ones left out of the kernel's distance) and only feasible
    configurations are scored, so the sampler never proposes an infeasible one. Several
    objectives are scalarised each trial by ParEGO's augmented Chebyshev function with
    random weights (Knowles 2006). Parameters outside the modelled space are drawn
    uniformly (seeded). An infinite objective value is modelled as the worst finite value
    observed (as Optuna does), so its region is learnt as bad rather than ignored; so is a
    FAIL trial (an exception, or a NaN value) with its parameters, as SMAC counts a crashed
    run (one that failed before suggesting every parameter is placed where this sampler
    proposed it). Optuna's GPSampler leaves FAIL trials out, and where the objective fails it then
    proposes the same failing point at every ask (``tests/samplers/test_failing_regions.py``).

    Black-box constraints, reported with :meth:`Trial.set_constraint
    <ferrotune.Trial.set_constraint>` or returned by ``constraints_func`` (``<= 0``
    feasible), get one Gaussian process each, fitted like the objective's on the trials
    that report a finite value for them. The acquisition adds ``Σ_k log P(c_k(x) <= 0)``
    (Gardner et al. 2014): added to LogEI, multiplied into EI and PI as the probability
    of feasibility, added to UCB's bound as a soft penalty. The incumbent is the best
    *feasible* value; while no trial is feasible, the probability of feasibility alone is
    maximised. Constraints are matched by sorted name (``c0, c1, ...`` for
    ``constraints_func``); a trial that reported fewer constraints than others is left
    out of the constraint models, and a constraint whose values are all equal is ignored.

    Defaults: ``output_transform="auto"`` and ``input_warping="auto"`` turn the power
    transform and the input warp on together where the space is numeric (no categorical or
    conditional parameter) with fewer than 10 parameters, the study has one objective and
    no black-box constraint, and ``trust_region`` is off; elsewhere the model is plain. The
    rule is where both options were measured better than the plain model
    (``benches/suite.py``, 20 seeds, regret at 50, 100 and 200 trials, one-sided
    Mann-Whitney U at p < 0.05): on the seven continuous problems below 10 parameters
    they won 12 of 21 (problem, budget) pairs and lost one (Branin at 50 trials, where the
    plain model reached 1e-4 and they 5e-3; they lead from 100 trials on). On the
    categorical and conditional problems they won 6 of 18 pairs and lost 5 (on the
    ``mixed`` problem they stay on a wrong categorical choice; ``cancer_models``, the
    Transformer space); from 10 to 40 parameters they won 16 of 42 (Rosenbrock,
    Styblinski-Tang, Dixon-Price, Ackley, Schwefel) and lost 11 (Levy, Rastrigin,
    Griewank, Sum Squares-40, the mixed-integer Rosenbrock); under black-box constraints
    (``benches/gp_constrained.py``) they won none of 6 and lost one (Branin with a sum
    constraint at 50 trials, held at a corner next to the optimum). Set both to ``True``
    / ``"power"`` or ``False`` / ``None`` to choose.

    Deviations from Optuna's ``GPSampler``: no PyTorch; the acquisition is selectable
    (Optuna uses LogEI only); conditional and declared spaces are modelled instead of
    falling back to random sampling; categoricals use a Hamming kernel rather than
    one-hot inputs; the signal and noise variances have log-normal rather than gamma
    priors; the Sobol candidates are drawn afresh at each refit and kept between refits
    (their posterior is updated as observations arrive), where Optuna draws new ones
    every trial; the local searches start from the scored candidates, not from the best
    observed point; with several objectives, constraints weight ParEGO's LogEI rather
    than a constrained LogEHVI; ``output_transform``, ``input_warping`` (on by default
    for small numeric spaces, above) and ``trust_region`` have no Optuna counterpart;
    a trial with a different number of constraint values is left out of the constraint
    models rather than raising;
    ``independent_sampler`` and ``warn_independent_sampling`` are not accepted. The
    hyperparameters survive pickling: an unpickled sampler refits once, warm-started from
    them. How these choices were measured is recorded in ``benches/README.md``.

    Args:
        acquisition: ``"logei"`` (LogEI of Ament et al. 2023, the default), ``"ei"``,
            ``"pi"`` or ``"ucb"``.
        beta: UCB's exploration weight β (``mean - √β stddev`` for a minimised objective);
            None uses the schedule of Srinivas et al. 2010,
            ``β_t = 2 log(d t² π² / (6 · 0.1))``. Only allowed with ``"ucb"``.
        n_startup_trials: COMPLETE trials drawn uniformly before the model is used (10).
        deterministic_objective: Hold the noise variance at ``1e-6`` (of the
            standardised output variance) instead of fitting it (False).
        output_transform: How objective values are transformed before they are
            standardised and modelled. ``None``: not at all. ``"power"``: Box-Cox when
            every value is positive, Yeo-Johnson otherwise, with the λ in ``[-3, 3]``
            that maximises the normal likelihood of the transformed values, as in HEBO
            (Cowen-Rivers et al. 2022). λ is re-estimated at each refit and kept in
            between. Single-objective studies only: with several objectives, and for the
            constraint models, values are not transformed. ``"auto"`` (the default): the
            power transform where the space is numeric (float and int parameters only,
            none conditional), has fewer than 10 parameters, and the study has one
            objective, no black-box constraint and no ``trust_region``; no transform
            elsewhere (the same rule as ``input_warping="auto"``; see "Defaults" below).
            One deviation from HEBO: when the positive values reach near 0 (their 10%
            quantile more than 10 times their minimum, as a squared error or a distance
            sampled near its minimum 0 gives), Yeo-Johnson is fitted to
            ``(y - min) / sd`` instead of Box-Cox to ``y / sd``. Box-Cox with λ < 1
            acts as a logarithm there and makes the minimum a cusp that the smooth
            kernel models badly: on a 2-D quadratic (8 seeds, 60 trials) the median
            best was 3.7e-3 with Box-Cox, 8.4e-6 untransformed and 6.9e-7 with the
            shift. ``benches/README.md`` ("the power transform near a zero minimum")
            has what it costs elsewhere.
        input_warping: Warp each float and int parameter (in its ``[0, 1]`` scale, log
            scale for log parameters; not categoricals) by a Kumaraswamy CDF
            ``w(x) = 1 - (1 - x^a)^b`` before the kernel sees it, as in Snoek et al. 2014,
            "Input Warping for Bayesian Optimization of Non-stationary Functions" (with
            the Kumaraswamy CDF in place of the Beta CDF, as BoTorch and HEBO do), so that
            an objective that varies fast in one part of a parameter's range and slowly
            elsewhere looks stationary to the model. ``"auto"`` (the default): warped
            where ``output_transform="auto"`` transforms (the rule above), not elsewhere.
            Each parameter's ``(a, b)`` is fitted with the kernel's hyperparameters by
            maximum a posteriori, starting from the identity ``a = b = 1``, under the
            prior ``log a, log b ~ N(0, 0.1)``
            (median 1; tighter than BoTorch's ``N(0, 0.75)``, because a MAP estimate
            rather than Snoek et al.'s integration over the warp overfits with the
            wider prior: measurements in ``benches/README.md``), ``a, b`` in
            ``[1/20, 20]``; ``x`` is clamped to ``[1e-7, 1 - 1e-7]`` where the warp's
            derivative is unbounded. The warp is refitted with the other hyperparameters
            and kept between refits. Only the objective's model is warped (with several
            objectives, that of ParEGO's scalarisation); constraint models are not. Cost:
            two more hyperparameters per parameter, so a fit takes about 1.3x as long
            (10-D, 300 observations); asks between refits cost the same.
        trust_region: ``True`` or ``"thompson"``: search inside one trust region, as TuRBO-1
            (Eriksson, Pearce, Gardner, Turner & Poloczek 2019, "Scalable Global Optimization via
            Local Bayesian Optimization", NeurIPS) (False). The region is a box in the ``[0, 1]``
            scale of the float and int parameters, centred at the best trial of the current *run*,
            with sides ``L * w_i``, ``w_i`` the GP's lengthscale of parameter ``i`` divided by the
            geometric mean of the lengthscales, clipped to the cube. ``L`` starts at 0.8; a trial
            better than the run's best by more than ``1e-3 * |best|`` is a success, any other a
            failure; 3 successes in a row double ``L`` (at most 1.6), ``max(4, d)`` failures in a
            row halve it (``d`` modelled parameters). When ``L`` falls below ``0.5**7`` the run ends
            and a new one starts: its first ``n_startup_trials`` trials are uniform draws (the paper
            draws a Latin-hypercube design, BoTorch's TuRBO tutorial ``2d`` Sobol points;
            ``n_startup_trials``, 10 by default, keeps more of a small budget for the search) and
            its GP is fitted on its own trials only (warm-started from the last hyperparameters).
            With ``True`` the sampler's acquisition (LogEI by default) is maximised inside the box,
            a deviation from the paper; with ``"thompson"`` the trial is chosen as in the paper, by
            one joint posterior draw of the objective (and of each black-box constraint) at
            ``100*d`` candidates of the box (at least 256, at most 1,024), taking the smallest drawn
            value among the candidates whose drawn constraints hold. The draw costs ``O(m^3)`` per
            trial for ``m`` candidates, several times the ``True`` search. Either way the candidates
            move each parameter away from the centre with probability ``min(1, 20/d)``, as the
            paper's. Categorical parameters are not bounded by the region (the acquisition chooses
            among all their choices); an int or stepped float takes a grid value inside the box, or
            the centre's value when the box is narrower than one step. Declared constraints are
            never violated; with black-box constraints an infeasible trial counts as a failure and
            the centre is the run's best feasible trial. The state (``L``, counters, restarts, the
            current run) is replayed from the COMPLETE trials in trial-number order on every ask, so
            it survives pickling and is the same for every worker and storage; a trial that finishes
            after higher-numbered ones is replayed at its number. RUNNING trials of other workers
            enter the model as Kriging-believer points when they were started in the current run
            (numbered after the trial that ended the last one). With several objectives the option
            has no effect. Measured on 10- to 40-dimensional problems and Hartmann-6 (10 seeds, 50
            and 200 trials; ``benches/README.md``): ``True`` was better than the plain GP on
            Zakharov-10, Ackley-10 and Hartmann-6 and level with it elsewhere; ``"thompson"`` better
            still on Zakharov-10, Ackley-10 and Rosenbrock-10 at 200 trials, but worse than both on
            Sum Squares-40 (where it has at most 1,024 candidates in 40 dimensions) and Hartmann-6
            (where it has no local search to refine the best point), at about three times the time
            per trial. At 1,000 trials CMA-ES was far ahead of both.
        seed: Seed of the generator; None draws one.
        constraints_func: Optuna's way to give black-box constraints (None): called with
            each trial that finishes COMPLETE or PRUNED, it returns a sequence of
            constraint values (``<= 0`` feasible), stored as if reported with
            ``Trial.set_constraint`` under the names ``c0, c1, ...``. A result that is
            not a sequence of numbers, or holds a NaN, raises
            :class:`~ferrotune.exceptions.InvalidArgumentError`.

    Raises:
        InvalidArgumentError: an argument out of its range (its message names it).

    Example:
        >>> sampler = GPSampler(seed=0)
        >>> study = ferrotune.create_study(sampler=sampler)  # doctest: +SKIP
    """

    # Its Kriging believer places other workers' running trials: optimize shows them.
    _uses_running_params = True

    def __init__(
        self,
        *,
        acquisition: Literal["logei", "ei", "pi", "ucb"] = "logei",
        beta: float | None = None,
        n_startup_trials: int = 10,
        deterministic_objective: bool = False,
        seed: int | None = None,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
        output_transform: Literal["power", "auto"] | None = "auto",
        input_warping: bool | Literal["auto"] = "auto",
        trust_region: bool | Literal["thompson"] = False,
    ) -> None:
        if acquisition not in _ACQUISITIONS:
            raise InvalidArgumentError(
                f"acquisition must be one of {', '.join(map(repr, _ACQUISITIONS))}, "
                f"got {acquisition!r}"
            )
        if beta is not None:
            if acquisition != "ucb":
                raise InvalidArgumentError("beta is only used with acquisition='ucb'")
            if isinstance(beta, bool) or not isinstance(beta, numbers.Real):
                raise InvalidArgumentError(f"beta must be a number or None, got {beta!r}")
            if not (math.isfinite(beta) and beta >= 0):
                raise InvalidArgumentError(f"beta must be finite and >= 0, got {beta!r}")
        check_size("n_startup_trials", n_startup_trials, 0, None)
        deterministic_objective = check_flag("deterministic_objective", deterministic_objective)
        if output_transform not in _OUTPUT_TRANSFORMS:
            raise InvalidArgumentError(
                f"output_transform must be None, 'power' or 'auto', got {output_transform!r}"
            )
        input_warping = _flag_or_word("input_warping", input_warping, "auto")
        trust_region = _flag_or_word("trust_region", trust_region, "thompson")
        self._config: dict[str, Any] = {
            "acquisition": acquisition,
            "beta": None if beta is None else float(beta),
            "n_startup_trials": n_startup_trials,
            "deterministic_objective": deterministic_objective,
            "output_transform": output_transform,
            "input_warping": input_warping,
            "trust_region": trust_region,
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
            # Pickles of versions without these keys had both options off.
            c.get("output_transform"),
            _WARPING[c.get("input_warping", False)],
            c.get("trust_region", False) is not False,
            c.get("trust_region", False) == "thompson",
        )

    @classmethod
    def _upgrade_state(cls, state: dict[str, Any]) -> dict[str, Any]:
        if "_rust" in state:
            return state
        # Earlier versions pickled {"config", "seed", "state": the generator's four
        # words, "fits": [(theta, n_fit, n_multi) or None], "constraints_func"}; the
        # core's state now holds the fits after the words.
        words = list(state["state"])
        fits = state.get("fits", [])
        words.append(len(fits))
        for fit in fits:
            if fit is None:
                words.append(0)
                continue
            theta, n_fit, n_multi = fit
            words += [1, n_fit, n_multi, len(theta)]
            words += [struct.unpack("<Q", struct.pack("<d", t))[0] for t in theta]
        constraints_func = state.get("constraints_func")
        return {
            "_config": state["config"],
            "_constraints_func": constraints_func,
            "_needs_after_trial": constraints_func is not None,
            "_seed": state["seed"],
            "_rust": words,
        }
