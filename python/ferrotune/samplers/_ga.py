from __future__ import annotations

import math
import numbers
from typing import Any

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers._base import _RustModelSampler, _seed_or_random, check_size

__all__ = ["GASampler"]


def _number(name: str, value: Any, low: float, high: float, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or math.isnan(float(value))
        or not low <= float(value) <= high
    ):
        raise InvalidArgumentError(f"{name} must be a number in [{low}, {high}], got {value!r}")


class GASampler(_RustModelSampler):
    """A genetic algorithm on mixed and conditional spaces, or regularized (aging) evolution.

    ``mode="generational"`` (default) runs generations of ``population_size`` individuals
    (50). Two parents are chosen by tournament selection (``tournament_size`` 2, drawn with
    replacement) from the breeding pool, recombined with probability ``crossover_prob``
    (0.9), and the child is mutated:

    - floats and ints: simulated binary crossover (SBX; Deb and Agrawal 1995) with
      distribution index ``eta_c`` (15), each variable crossed with probability 1/2 and
      taking either of SBX's two children at random (pymoo's exchange), and polynomial
      mutation (Deb and Goyal 1996, in the bounded form of Deb and Deb 2014)
      with distribution index ``eta_m`` (20): pymoo's defaults. Both act on the unit
      scale of each parameter (log-scaled for ``log=True``; ints and stepped floats are
      rounded back onto their grid);
    - categoricals: uniform crossover (each swapped with probability ``swapping_prob``,
      0.5) and random reset (a uniform choice);
    - each parameter is mutated with probability ``mutation_prob`` (default
      ``1 / n_params``).

    Survival: the breeding pool of the next generation is the best ``population_size`` of
    the current pool and the current generation's members ((mu + lambda), pymoo's
    ``FitnessSurvival``); with ``n_elites=k``, it is the ``k`` best of the current pool
    (kept without being evaluated again) and all the current generation's members
    (generational replacement with elitism). Generation 0 is uniform.

    ``mode="aging"`` is regularized evolution (Real et al. 2019, "Regularized Evolution for
    Image Classifier Architecture Search", Algorithm 1), the baseline of neural
    architecture search: the population is the ``population_size`` (P = 100) most recently
    finished individuals; each new individual takes the best of ``tournament_size``
    (S = 25) members sampled with replacement and changes one of its parameters, chosen
    uniformly (polynomial mutation for a float or int, another choice for a
    categorical); the oldest member leaves as each new one arrives. The first P
    individuals are uniform. P = 100 and S = 25 are the paper's values.

    Conditional parameters: a child takes a parameter both parents have through
    crossover, one only one parent has from that parent, and draws one neither has
    uniformly. On a declared :class:`~ferrotune.SearchSpace` a child that breaks a
    condition or hard constraint is bred again (up to 32 times) and then the constrained
    uniform sampler answers, so no proposal is ever infeasible.

    Generation state lives in the study: each trial carries the tag
    ``[1, generation, members proposed before]`` or ``[2, initial (0) | child (1),
    parent]``, so samplers of several workers or ``n_jobs`` threads sharing a study build
    one population and a resumed study continues its generation. A generation closes
    with its first ``population_size`` COMPLETE members in trial-number order, once no
    member before the last of them is still running (a slow member holds its
    generation, as in CMA-ES); failed and pruned members are replaced by later ones. The
    members asked while a generation waited compete in the next one before its own, so
    parallel workers waste few evaluations; one left out twice is dropped. Every worker,
    live or reading a finished study, closes each generation with the same members.
    Aging evolution is asynchronous by design: its population is the last P COMPLETE
    individuals in the order the study learnt of them. Trials without this sampler's tag
    (enqueued ones) join no generation. Each ask reads only the trials new since the last
    one, so its cost does not grow with the number of trials. The sampler ranks one
    objective.

    Args:
        population_size: P (at most 100,000, as ``tournament_size`` and ``n_elites``);
            None (default) for 50 (generational) or 100 (aging). With
            budgets of a few hundred trials a population of 20 breeds more generations and
            did better than 50 on most benchmark problems (benches/README.md).
        mode: ``"generational"`` (default) or ``"aging"``.
        tournament_size: Individuals drawn per tournament; None (default) for 2
            (generational) or 25 (aging, the paper's S).
        n_elites: None (default) for (mu + lambda) survival; an int k (at most the
            population size) for generational replacement that carries the k best of the
            breeding pool into the next one.
        crossover_prob: Probability that two parents are recombined (0.9).
        swapping_prob: Probability that uniform crossover swaps a categorical (0.5).
        eta_c: SBX distribution index (15); larger keeps children nearer their parents.
        eta_m: Polynomial mutation distribution index (20).
        mutation_prob: Per-parameter mutation probability; None (default) for
            ``1 / n_params``. Unused in aging mode (one parameter changes).
        seed: Seed of the generator; None draws one.

    Raises:
        InvalidArgumentError: an argument out of its range.

    Example:
        >>> study = ferrotune.create_study(sampler=GASampler(seed=0))  # doctest: +SKIP
        >>> nas = ferrotune.create_study(sampler=GASampler(mode="aging"))  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        population_size: int | None = None,
        mode: str = "generational",
        tournament_size: int | None = None,
        n_elites: int | None = None,
        crossover_prob: float = 0.9,
        swapping_prob: float = 0.5,
        eta_c: float = 15.0,
        eta_m: float = 20.0,
        mutation_prob: float | None = None,
        seed: int | None = None,
    ) -> None:
        if mode not in ("generational", "aging"):
            raise InvalidArgumentError(f"mode must be 'generational' or 'aging', got {mode!r}")
        for name, v, least in (
            ("population_size", population_size, 2),
            ("tournament_size", tournament_size, 1),
            ("n_elites", n_elites, 0),
        ):
            if v is not None:
                check_size(name, v, least)
        pop = population_size or (100 if mode == "aging" else 50)
        if n_elites is not None and mode == "aging":
            raise InvalidArgumentError(
                "n_elites applies to generational replacement; mode='aging' replaces the "
                "oldest individual and keeps no elites (leave n_elites None)"
            )
        if n_elites is not None and n_elites > pop:
            raise InvalidArgumentError(
                f"n_elites must be at most the population size ({pop}), got {n_elites}"
            )
        _number("crossover_prob", crossover_prob, 0.0, 1.0)
        _number("swapping_prob", swapping_prob, 0.0, 1.0)
        _number("mutation_prob", mutation_prob, 0.0, 1.0, allow_none=True)
        _number("eta_c", eta_c, 0.0, math.inf)
        _number("eta_m", eta_m, 0.0, math.inf)
        if math.isinf(eta_c) or math.isinf(eta_m):
            raise InvalidArgumentError("eta_c and eta_m must be finite")
        self._config: dict[str, Any] = {
            "mode": mode,
            "population_size": population_size,
            "tournament_size": tournament_size,
            "n_elites": n_elites,
            "crossover_prob": float(crossover_prob),
            "swapping_prob": float(swapping_prob),
            "eta_c": float(eta_c),
            "eta_m": float(eta_m),
            "mutation_prob": None if mutation_prob is None else float(mutation_prob),
        }
        self._seed = _seed_or_random(seed)
        self._rust = self._build()

    def _build(self) -> _core.GaSamplerCore:
        c = self._config
        return _core.GaSamplerCore(
            c["mode"],
            c["population_size"],
            c["tournament_size"],
            c["n_elites"],
            c["crossover_prob"],
            c["swapping_prob"],
            c["eta_c"],
            c["eta_m"],
            c["mutation_prob"],
            self._seed,
        )
