from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers._base import _RustModelSampler, _seed_or_random
from ferrotune.samplers.nsgaii._crossovers import UniformCrossover, _as_crossover

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ferrotune.samplers.nsgaii import BaseCrossover
    from ferrotune.trial import FrozenTrial

__all__ = ["NSGAIIISampler", "NSGAIISampler"]


def _check_prob(name: str, value: Any, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgumentError(f"{name} must be a number in [0, 1], got {value!r}")
    if not 0.0 <= float(value) <= 1.0:
        raise InvalidArgumentError(f"{name} must be in [0, 1], got {value!r}")
    return float(value)


def _refuse(**unsupported: Any) -> None:
    for name, value in unsupported.items():
        if value is not None:
            raise InvalidArgumentError(
                f"{name} is not supported: ferrotune's NSGA samplers run in Rust and take "
                "no Python strategy or mutation objects"
            )


class NSGAIISampler(_RustModelSampler):
    """NSGA-II (Deb, Pratap, Agarwal and Meyarivan 2002), with every loop in Rust.

    Each trial is an individual of the open generation. Generation 0 is uniform; later
    children come from the parent population: with probability ``crossover_prob`` two
    parents chosen by binary tournaments under constrained domination are recombined
    (``crossover`` for numerical parameters, uniform crossover for categorical ones),
    otherwise one parent is copied; then each parameter is drawn anew with probability
    ``mutation_prob``. Once a generation has ``population_size`` COMPLETE members, the
    next parent population is selected from the parents and these members by fast
    non-dominated sorting and crowding distance (the elitist selection of the paper),
    once for the generation, so the cost per trial stays flat.

    Constraints: from ``constraints_func`` or ``Trial.set_constraint`` (values <= 0
    feasible). Constrained domination (Deb 2000): feasible before infeasible, a smaller
    total violation first among infeasible trials.

    Generations live in the study (a tag stored with each trial), so threads
    (``n_jobs``), worker processes sharing a database and a resumed study continue one
    run: FAIL and PRUNED trials do not count (more trials join the generation instead),
    members finishing after their generation closed join the next selection, and trials
    without a tag (enqueued before the sampler ran, or from another sampler) belong to
    no generation. On a declared :class:`~ferrotune.SearchSpace`, a child that breaks a
    condition or hard constraint is replaced by another (then by the constrained uniform
    sampler): no proposal violates the space.

    Args:
        population_size: Individuals (COMPLETE trials) per generation; 50, at least 2.
        mutation: Not supported (must be None): a mutated parameter is drawn uniformly,
            Optuna's behaviour for None.
        mutation_prob: Probability of drawing each parameter anew; None: ``1 / n_params``.
        crossover: None (uniform crossover), a name (``"uniform"``, ``"blxalpha"``,
            ``"sbx"``, ``"vsbx"``, ``"undx"``, ``"spx"``: the operator with its
            defaults) or an operator of :mod:`ferrotune.samplers.nsgaii` with its
            arguments (``UniformCrossover``, ``BLXAlphaCrossover``, ``SBXCrossover``,
            ``VSBXCrossover``, ``UNDXCrossover``, ``SPXCrossover``, Optuna's names and
            defaults). UNDX and SPX recombine three parents, each chosen by its own
            tournament among the parents not chosen yet, so they need
            ``population_size >= 3``.
        crossover_prob: Probability of a crossover, else a parent is copied; 0.9.
        swapping_prob: Probability of taking a parameter from the second parent in
            uniform crossover; 0.5.
        seed: Seed of the generator; None draws one from the operating system.
        constraints_func: ``trial -> sequence of floats`` evaluated after each COMPLETE
            or PRUNED trial; values > 0 are violations.
        elite_population_selection_strategy: Not supported (must be None).
        child_generation_strategy: Not supported (must be None).
        after_trial_strategy: Not supported (must be None).

    Deviations from Optuna: numerical crossover works in each parameter's unit cube
    (log scale for log parameters; integers and stepped floats widened by half a step),
    an affine image of Optuna's transformed space (UNDX, and vSBX's formula, are not
    invariant under it); a child leaving the unit cube is made again from new parents
    as in Optuna, but clipped after 64 tries instead of retried without limit; UNDX
    uses the paper's standard deviations (see ``UNDXCrossover``); members completing after their
    generation closed join the next selection (Optuna counts them in their generation
    only while it is the latest); in a study with constraints, trials without
    constraint values are left out of the selection, as in Optuna.

    Example:
        >>> sampler = NSGAIISampler(population_size=20, seed=0)  # doctest: +SKIP
        >>> study = ferrotune.create_study(directions=["minimize", "minimize"], sampler=sampler)
    """

    _selection = "nsga2"

    def __init__(
        self,
        *,
        population_size: int = 50,
        mutation: Any = None,
        mutation_prob: float | None = None,
        crossover: BaseCrossover | str | None = None,
        crossover_prob: float = 0.9,
        swapping_prob: float = 0.5,
        seed: int | None = None,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
        elite_population_selection_strategy: Any = None,
        child_generation_strategy: Any = None,
        after_trial_strategy: Any = None,
    ) -> None:
        _refuse(
            mutation=mutation,
            elite_population_selection_strategy=elite_population_selection_strategy,
            child_generation_strategy=child_generation_strategy,
            after_trial_strategy=after_trial_strategy,
        )
        self._init_common(
            population_size, mutation_prob, crossover, crossover_prob, swapping_prob, seed
        )
        self._set_constraints_func(constraints_func)
        self._rust = self._build()

    def _init_common(
        self,
        population_size: Any,
        mutation_prob: Any,
        crossover: Any,
        crossover_prob: Any,
        swapping_prob: Any,
        seed: int | None,
    ) -> None:
        if (
            isinstance(population_size, bool)
            or not isinstance(population_size, numbers.Integral)
            or population_size < 2
        ):
            raise InvalidArgumentError(
                f"population_size must be an int >= 2, got {population_size!r}"
            )
        swap = float(_check_prob("swapping_prob", swapping_prob) or 0.0)
        op = _as_crossover(crossover, swap)
        if population_size < op.n_parents:
            raise InvalidArgumentError(
                f"population_size must be >= {op.n_parents} with {op!r}, got {population_size}"
            )
        if isinstance(op, UniformCrossover):
            swap = op.swapping_prob
        self._config: dict[str, Any] = {
            "population_size": int(population_size),
            "mutation_prob": _check_prob("mutation_prob", mutation_prob, allow_none=True),
            "crossover_prob": _check_prob("crossover_prob", crossover_prob),
            "swapping_prob": swap,
            **op._core_args(),
        }
        self._seed = _seed_or_random(seed)

    @property
    def population_size(self) -> int:
        """Individuals (COMPLETE trials) per generation."""
        return int(self._config["population_size"])

    def _build(self) -> _core.NsgaSamplerCore:
        c = dict(self._config)
        return _core.NsgaSamplerCore(
            c.pop("population_size"),
            c.pop("mutation_prob"),
            c.pop("crossover_prob"),
            c.pop("swapping_prob"),
            self._seed,
            **c,
        )


class NSGAIIISampler(NSGAIISampler):
    """NSGA-III (Deb and Jain 2014), with every loop in Rust.

    As :class:`NSGAIISampler` (same arguments, generations and constraints), except for
    the front that does not fit whole into the next parent population: its members are
    chosen by niche preservation around reference points on the normalised objectives
    (ideal point, extreme points by the achievement scalarising function, intercepts of
    their hyperplane; each individual associated with its nearest reference line; the
    least crowded reference points served first), which keeps several objectives spread.

    Args:
        reference_points: Rows of one number per objective giving the reference
            directions; None: Das and Dennis's points, every vector of multiples of
            ``1 / dividing_parameter`` summing to 1.
        dividing_parameter: Divisions per objective of the default points; 3.
        **others: As :class:`NSGAIISampler`.

    Deviations from Optuna: ties of the niching are broken by a generator seeded with
    the generation number (not the sampler's seed), so every worker selects the same
    population.

    Example:
        >>> sampler = NSGAIIISampler(population_size=40, seed=0)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        population_size: int = 50,
        mutation: Any = None,
        mutation_prob: float | None = None,
        crossover: BaseCrossover | str | None = None,
        crossover_prob: float = 0.9,
        swapping_prob: float = 0.5,
        seed: int | None = None,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
        reference_points: Any = None,
        dividing_parameter: int = 3,
        elite_population_selection_strategy: Any = None,
        child_generation_strategy: Any = None,
        after_trial_strategy: Any = None,
    ) -> None:
        _refuse(
            mutation=mutation,
            elite_population_selection_strategy=elite_population_selection_strategy,
            child_generation_strategy=child_generation_strategy,
            after_trial_strategy=after_trial_strategy,
        )
        self._init_common(
            population_size, mutation_prob, crossover, crossover_prob, swapping_prob, seed
        )
        if (
            isinstance(dividing_parameter, bool)
            or not isinstance(dividing_parameter, numbers.Integral)
            or dividing_parameter < 1
        ):
            raise InvalidArgumentError(
                f"dividing_parameter must be an int >= 1, got {dividing_parameter!r}"
            )
        self._config["nsga3"] = True
        self._config["dividing_parameter"] = int(dividing_parameter)
        self._config["reference_points"] = _reference_points(reference_points)
        self._set_constraints_func(constraints_func)
        self._rust = self._build()


def _reference_points(points: Any) -> list[list[float]] | None:
    if points is None:
        return None
    try:
        rows = [[float(v) for v in row] for row in points]
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(
            f"reference_points must be rows of numbers, got {points!r}"
        ) from e
    if not rows or any(len(r) != len(rows[0]) or not r for r in rows):
        raise InvalidArgumentError(
            "reference_points must be a non-empty list of rows of the same, non-zero length"
        )
    if any(not math.isfinite(v) for r in rows for v in r):
        raise InvalidArgumentError("reference_points must be finite")
    return rows
