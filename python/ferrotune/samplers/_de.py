from __future__ import annotations

import math
import numbers
from typing import Any, Literal

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers._base import _RustModelSampler, _seed_or_random, check_size

__all__ = ["DESampler"]

_STRATEGIES = ("current-to-pbest1", "rand1bin")
_ADAPTATIONS = ("shade", "jade", "none")


def _check_int(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise InvalidArgumentError(f"{name} must be an int >= {low}, got {value!r}")
    return int(value)


def _check_float(name: str, value: object, low: float, high: float, *, open_low: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgumentError(f"{name} must be a number, got {value!r}")
    v = float(value)
    inside = (v > low if open_low else v >= low) and v <= high
    if not (math.isfinite(v) and inside):
        bracket = "(" if open_low else "["
        raise InvalidArgumentError(f"{name} must be in {bracket}{low}, {high}], got {value!r}")
    return v


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidArgumentError(
            f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}"
        )
    return str(value)


class DESampler(_RustModelSampler):
    """Differential evolution with success-history parameter adaptation, in Rust.

    Differential evolution (Storn and Price 1997) keeps a population of
    ``population_size`` configurations and proposes, for each member (the *target*),
    a *trial vector*: a mutant built from other members, crossed over with the target
    component by component (binomial crossover). When the trial vectors of a
    generation have finished, each replaces its target if it is not worse (greedy
    selection). Strategies:

    - ``"current-to-pbest1"`` (the default; JADE, Zhang and Sanderson 2009):
      ``v = x_i + F (x_pbest - x_i) + F (x_r1 - x_r2)``, with ``x_pbest`` one of the
      best ``p`` share of the population and ``x_r2`` drawn from the population and an
      archive of replaced targets.
    - ``"rand1bin"`` (Storn and Price 1997): ``v = x_r1 + F (x_r2 - x_r3)``.

    F and CR are chosen per trial vector. ``adaptation="shade"`` (the default;
    Tanabe and Fukunaga 2013) keeps memories of ``memory_size`` entries (all 0.5 at
    first); each trial vector draws an entry, then ``F ~ Cauchy(M_F, 0.1)`` (drawn
    again while not positive, cut at 1) and ``CR ~ N(M_CR, 0.1)`` clipped to
    ``[0, 1]``, and ``p`` uniformly in ``[2 / population_size, p_best_rate]``. At the
    end of each generation the F and CR of the trial vectors that improved on their
    target are written into one memory entry (in turn) as their weighted Lehmer and
    arithmetic means, weighted by the improvement. ``"jade"`` moves a single mean
    towards them instead (c = 0.1; ``p = p_best_rate``), ``"none"`` uses
    ``mutation_factor`` and ``crossover_rate`` throughout.

    Defaults and their sources: 20 members (Storn and Price advise 5 to 10 times the
    number of parameters, too many generations' worth of trials for most tuning
    budgets: 20 gives 50 generations at 1,000 trials); ``memory_size`` equal to the
    population size, ``p_best_rate`` 0.2 and an archive as large as the population
    (``archive_rate=1.0``), as in SHADE; ``mutation_factor`` 0.5 and
    ``crossover_rate`` 0.9 for ``adaptation="none"`` (Storn and Price 1997).

    Encoding: every parameter is one coordinate in ``[0, 1]``: floats affine in their
    range (log parameters in log space); ints and stepped floats are rounded to their
    grid when decoded; a categorical is one continuous key whose cell
    ``floor(u * n_choices)`` picks the choice (so the choices' order matters). Each
    trial keeps its continuous vector (in its tag), so rounding only affects the
    evaluated value and members sharing a rounded value still differ. A mutant component
    outside ``[0, 1]`` is moved halfway between the target's value and the bound
    (SHADE's bound handling). The first generation, and any slot no COMPLETE trial
    has filled yet, is drawn uniformly. Parameters outside the intersection search
    space (conditional ones, in define-by-run code) are drawn uniformly.

    The population lives in the study, not in the sampler: each trial records its
    generation, slot, F and CR (the trial system attribute ``ferrotune:tag``), and
    the selection, archive and memories are rebuilt from the trials. So
    ``optimize(n_jobs=...)`` threads and worker processes sharing a storage fill one
    population, and a reloaded study continues its generation. A generation closes as
    soon as each slot has one finished trial vector. Each ask takes a slot without a
    finished trial vector and with the fewest proposed, drawn at random (workers asking
    at the same moment spread over the slots), so asks while a generation waits for
    results propose extra trial vectors for the slots still waiting; one that finishes
    after its generation closed replaces its slot's member at once if it is not worse.
    FAIL and PRUNED trial vectors lose their selection; trials without a tag (enqueued
    ones, those of another sampler) are not part of the population. The work per ask
    does not grow with the number of trials.

    On a declared :class:`~ferrotune.SearchSpace`, trial vectors cover every
    parameter (an inactive one counts as the middle of its range); one that violates
    a hard constraint or the caller's constraints is replaced by a new trial vector
    (new random numbers), up to 32 times, then by a uniform feasible draw: no
    proposal is ever infeasible.

    Optuna has no differential-evolution sampler. Single-objective studies only.

    Args:
        population_size: Slots of the population (4 to 100,000; 20).
        strategy: ``"current-to-pbest1"`` (default) or ``"rand1bin"``.
        adaptation: ``"shade"`` (default), ``"jade"`` or ``"none"``.
        mutation_factor: F with ``adaptation="none"``, in ``(0, 2]`` (0.5).
        crossover_rate: CR with ``adaptation="none"``, in ``[0, 1]`` (0.9).
        memory_size: SHADE's memory size H (1 to 100,000); None: the population size.
        p_best_rate: The largest share of the population ``x_pbest`` is drawn from,
            in ``(0, 1]`` (0.2).
        archive_rate: The archive's size as a multiple of the population size, in
            ``[0, 100]`` (1.0; 0 disables the archive).
        seed: Seed of the generator; None draws one. Workers with different seeds
            still build one population.

    Raises:
        InvalidArgumentError: an argument out of its range (its message names it).

    Example:
        >>> sampler = DESampler(population_size=20, seed=0)
        >>> study = ferrotune.create_study(sampler=sampler)  # doctest: +SKIP
    """

    _needs_after_trial = False

    def __init__(
        self,
        *,
        population_size: int = 20,
        strategy: Literal["current-to-pbest1", "rand1bin"] = "current-to-pbest1",
        adaptation: Literal["shade", "jade", "none"] = "shade",
        mutation_factor: float = 0.5,
        crossover_rate: float = 0.9,
        memory_size: int | None = None,
        p_best_rate: float = 0.2,
        archive_rate: float = 1.0,
        seed: int | None = None,
    ) -> None:
        self._config: dict[str, Any] = {
            "population_size": check_size("population_size", population_size, 4),
            "strategy": _check_choice("strategy", strategy, _STRATEGIES),
            "adaptation": _check_choice("adaptation", adaptation, _ADAPTATIONS),
            "mutation_factor": _check_float(
                "mutation_factor", mutation_factor, 0.0, 2.0, open_low=True
            ),
            "crossover_rate": _check_float(
                "crossover_rate", crossover_rate, 0.0, 1.0, open_low=False
            ),
            "memory_size": None
            if memory_size is None
            else check_size("memory_size", memory_size, 1),
            "p_best_rate": _check_float("p_best_rate", p_best_rate, 0.0, 1.0, open_low=True),
            "archive_rate": _check_float("archive_rate", archive_rate, 0.0, 100.0, open_low=False),
        }
        self._seed = _seed_or_random(seed)
        self._rust = self._build()

    def _build(self) -> _core.DeSamplerCore:
        c = self._config
        return _core.DeSamplerCore(
            c["population_size"],
            c["strategy"],
            c["adaptation"],
            c["mutation_factor"],
            c["crossover_rate"],
            c["memory_size"],
            c["p_best_rate"],
            c["archive_rate"],
            self._seed,
        )
