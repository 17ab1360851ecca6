from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers._base import _RustModelSampler, _seed_or_random
from ferrotune.samplers._de import _check_float, _check_int

__all__ = ["TrustRegionSampler"]


class TrustRegionSampler(_RustModelSampler):
    """Derivative-free trust-region search with quadratic models, in Rust.

    A local method for continuous objectives: it reaches the bottom of a smooth basin in
    far fewer evaluations than a global model or an evolution strategy, and does not look
    beyond it (apart from random restarts). It belongs to the family of Powell's NEWUOA
    and BOBYQA (Powell 2004, 2009); as in ORBIT (Wild, Regis and Shoemaker 2008), its
    models are fitted afresh at each ask from the study's trials near the centre rather
    than kept in a set of its own, so it starts from whatever the study holds and works
    with trials other samplers or workers added.

    It works in the unit cube (each parameter one coordinate in ``[0, 1]``, log
    parameters in log space; integers and stepped floats rounded when decoded; a
    categorical parameter as one continuous key whose cell picks the choice, as
    :class:`DESampler` does, which suits ordered choices only). A *run* has a centre, the
    best point it has seen, and a radius ``Δ``:

    1. **Start**: ``x0`` if given; else the best complete trial when the study has two or
       more; else the centre of the box. Then a design of ``2d`` probes, two along each
       coordinate, every coordinate's first before any second, in a random order (a probe
       already near a trial is skipped; for a categorical, the start with each other
       choice). The first probe along a coordinate is ``±Δ`` from the run's centre *as it
       is then*, so the design keeps every better probe it finds (COBYLA's initial simplex
       moves to each better vertex); the second lies on the first's line, beyond it when
       it was better than its base, else behind the base (NEWUOA's ``2Δ`` rule), so the
       first model has three points on each axis and the exact curvature of a separable
       quadratic. BOBYQA's design (``x0 ± Δ`` along each axis) kept none of its early
       gains; a design whose second probes also start from the moving centre lost the
       curvature (``benches/suite.py``, 20 seeds, against BOBYQA's: 11 wins, 6 losses and
       23 ties of 40 (problem, budget) pairs; the losses: Michalewicz-5 at 200 trials,
       where every seed stays in a local basin that BOBYQA's design left on 19 of 20, and
       differences below ``1e-12``, or ``2e-5`` on the mixed-integer Rosenbrock's plateau
       at 8.98). From 25 parameters on, where the design is more than 50 trials, model
       steps start once every coordinate has its first probe (``d + 1`` trials, as
       COBYLA), a second probe follows each step's result, and a model with no Hessian to
       change from starts from the design's curvature along the axes (while the design is
       incomplete, and once after). 10 seeds, median regret at 50 / 200 trials against
       the whole design first: 30-D Rosenbrock 4.8e4 / 641 against 1.9e5 / 969, 40-D Sum
       Squares 1,183 / 3e-20 against 2,425 / 5e-19; on seven shifted 30-D problems
       outside the suite, 6 wins and 1 tie at 50 trials, 4 ties and 3 losses at 200
       (Levy, Rastrigin, Griewank's precision). From 20 parameters it won none and lost 3
       of the 8 pairs of four 20-D problems (Sum Squares at 50, which the whole design of
       41 trials solves exactly; Levy at 50 and 200), and from 10 it lost on 7 of the
       suite's 11 10-D problems at 50 trials.
    2. **Geometry**: the model moves the parameters with a value on either side within reach
       of the centre (an integer, stepped or categorical parameter whose next value lies
       farther keeps the centre's, and only trials that share it count; a design probe of
       such a parameter moves it one value at least). The trials within reach of the centre,
       nearest first, must hold an affine basis (ORBIT's ``AffPoints``: each kept point's
       part outside the span of those before is at least ``0.1Δ``); else the ask proposes
       the centre plus ``Δ`` along the direction the trials within ``4Δ`` cover least. The
       reach is ``4Δ``, or half of ``radius0`` when that is more (ORBIT's second, wider
       neighbourhood): a model whose basis lies within ``4Δ`` is *certified*; one that
       needed farther trials is used all the same, and when its step fails the radius stays
       and the next ask adds the geometry point near the centre instead (ORBIT's
       model-improvement step). Without the wider reach each halving of a small radius left
       the trials behind and cost about ``d`` geometry points (10-D Zakharov at 50 trials,
       median regret over 20 seeds: 218 against 91; 30-D Rosenbrock at 200: 1,582 against
       961). The half is measured: reaches of 0.25 / 0.5 / 0.75 / 1 times ``radius0`` gave
       218 / 91 / 980 / 2,056 on Zakharov at 50 and 1,506 / 961 / 718 / 533 on Rosenbrock-30
       at 200, and 0.5 lost nothing elsewhere in ``benches/suite.py``.
    3. **Model step**: the quadratic through the centre, the basis and the next nearest
       trials up to ``n_points`` whose Hessian changes least (in Frobenius norm) from the
       last model's (Powell 2004's least-change update; from zero at a run's start and
       after a failed step), minimised over the ball of radius ``Δ`` inside the box by
       truncated conjugate gradients that fix variables at the bounds they reach (as
       BOBYQA's ``TRSBOX``).
    4. **Radius**: when a step's trial finishes, the ratio ``rho`` of the actual to the
       predicted decrease sets it as BOBYQA does: ``rho > 0.7`` widens it to
       ``max(Δ, 2‖step‖)`` (at most the whole cube), ``rho <= 0.1`` halves it (a certified
       model's step; see 2 for the others), the centre
       moves to any better trial. A step the model predicts no decrease for, one that
       rounds onto a trial already there, or one that breaks a declared space's hard
       constraint halves the radius without an evaluation.
    5. **Restart**: below ``radius_min`` the run ends and a new one starts at a uniform
       random point with radius ``radius0`` (random restarts, as Nevergrad's ``RCobyla``).

    A trial without a value (FAIL: an exception or a NaN; or PRUNED) counts as tried and
    worse than any value, as a running trial does: the design does not probe it again and
    no step or point lands on it.

    Deviations from BOBYQA: there is no second, slowly shrinking resolution apart from
    ``Δ`` (one radius does both jobs); the model's points are the nearest trials rather
    than a set updated one point at a time, each model solved afresh from them; the
    Hessian carried from model to model is dropped after a failed step (``rho <= 0.1``):
    carried always, it misled the models on non-quadratic valleys (10-D Rosenbrock,
    Zakharov, Dixon-Price); never carried, curvature learnt from points no longer among
    the nearest was lost (Levy, Griewank, Sum Squares); a step's length is not floored.

    Parallel workers: while a model step runs (or another worker's trial shows no values
    yet, which may be the same step), an ask takes the point the model values lowest
    among the step pulled back towards the centre and 32 random points of the region, at
    least ``Δ/4`` from every running trial (random points at distance ``Δ`` when none
    is); the design's points come in a random order. Threads sharing the sampler know
    each other's proposals; worker processes can still repeat a point another has asked
    for but not recorded (4 processes on SQLite, 120 trials: 0-8 repeats in 6 runs).
    With 8 workers in step the regret grows far more than CMA-ES's or TPE's
    (``benches/auto_parallel.py``: still ahead of both on 10-D Rosenbrock, Hartmann-6 and
    Styblinski-Tang at 200 trials, behind CMA-ES on Levy).

    The first trial of a define-by-run study (whose space is not known before it) is
    drawn where the first run starts: ``x0``, else the centre of each numeric range, with
    a categorical choice at random (their order means nothing); the run then starts from
    it. Drawn uniformly instead, as before, it cost every define-by-run study one trial
    (AutoSampler on ``benches/suite.py``, 20 seeds, against the uniform first trial: 2
    wins (Schwefel-10 at 50 and 200), 3 losses (Goldstein-Price at 50 and 200, 3e-15
    against 0, and Rastrigin-10 at 200, 7.96 against 6.96, p = 0.043) and 49 ties of 54
    (problem, budget) pairs; 40-D Sum Squares at 50 1,160 against 1,225).

    A declared space's conditions: an inactive parameter counts as the middle of its
    range, in the trials and in the proposals, so a step along a parameter its centre
    leaves inactive repeats that trial and is refused as such. The run explores a
    condition's child parameters only around a centre where they are active, which a
    local method does poorly (on a two-choice space whose better branch has its own
    parameter, every run of 50 trials stayed on the other branch); AutoSampler gives
    declared conditional spaces to the GP. On ``benchmarks.transformer()`` (100 trials, 8
    seeds) the median regret is 0.30 against random sampling's 0.37.

    Single-objective only. The work per ask grows with the number of trials
    (one pass over them to find the nearest) and with ``n_points`` cubed (the model's
    linear system): in the last run of ``benches/trust_overhead.py`` (200 trials), 0.055
    ms per trial in 10-D and 0.26 ms in 40-D, 75-100x less than Nevergrad's NGOpt and
    6-14x less than Optuna's CmaEsSampler (earlier runs: 110-150x and 11-13x; the
    machine is shared, so the ratios move). Optuna has no such sampler (Nevergrad has COBYLA and
    BOBYQA through SciPy and Py-BOBYQA).

    Args:
        x0: The first run's start as ``{name: value}`` (the centre of the range for a
            parameter not named).
        radius0: The initial radius in the unit cube, in ``(0, 1]`` (0.2: a fifth of each
            range; BOBYQA advises about a tenth of the greatest expected change).
        radius_min: The radius that ends a run, in ``(0, radius0)`` (1e-8).
        n_points: Trials each model interpolates, at least 2 (None: a full quadratic's
            ``(d + 1)(d + 2) / 2`` up to 3 parameters, ``2d + 1`` from 4 on, NEWUOA's and
            BOBYQA's recommendation; ``d + 1`` are used whatever it says).
        seed: Seed of the generator (the first trial, restarts, parallel asks); None
            draws one.

    Raises:
        InvalidArgumentError: an argument out of its range (its message names it).

    Example:
        >>> sampler = TrustRegionSampler(seed=0)
        >>> study = ferrotune.create_study(sampler=sampler)  # doctest: +SKIP
    """

    _needs_after_trial = False

    def __init__(
        self,
        *,
        x0: Mapping[str, Any] | None = None,
        radius0: float = 0.2,
        radius_min: float = 1e-8,
        n_points: int | None = None,
        seed: int | None = None,
    ) -> None:
        if x0 is not None and not isinstance(x0, Mapping):
            raise InvalidArgumentError(f"x0 must be a mapping name -> value, got {x0!r}")
        start: list[tuple[str, float]] = []
        for name, v in (x0 or {}).items():
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise InvalidArgumentError(f"x0[{name!r}] must be a finite number, got {v!r}")
            start.append((str(name), float(v)))
        r0 = _check_float("radius0", radius0, 0.0, 1.0, open_low=True)
        rmin = radius_min
        if (
            isinstance(rmin, bool)
            or not isinstance(rmin, numbers.Real)
            or not (math.isfinite(rmin) and 0.0 < rmin < r0)
        ):
            raise InvalidArgumentError(
                f"radius_min must be a number in (0, radius0) = (0, {r0}), got {radius_min!r}"
            )
        self._config: dict[str, Any] = {
            "x0": start,
            "radius0": r0,
            "radius_min": float(rmin),
            "n_points": None if n_points is None else _check_int("n_points", n_points, 2),
        }
        self._seed = _seed_or_random(seed)
        self._rust = self._build()

    def _build(self) -> _core.TrustSamplerCore:
        c = self._config
        return _core.TrustSamplerCore(
            c["x0"], c["radius0"], c["radius_min"], c["n_points"], self._seed
        )

    @property
    def radius(self) -> float | None:
        """The current run's radius in the unit cube (None before the first model ask)."""
        radius: float | None = self._rust.radius
        return radius
