"""Test problems with known optima, used by ferrotune's tests and benchmarks.

All problems are minimised. Each :class:`Problem` carries its search space twice: ``params``, a
library-neutral description (:class:`Param`), and ``space``, the same as ferrotune distributions.

Example::

    from ferrotune.benchmarks import get_problem

    problem = get_problem("rosenbrock", dim=5)
    problem.space              # {"x0": FloatDistribution(-5.0, 10.0), ...}
    problem(problem.optimal_params) == problem.optimum  # True
    problem.regret(3.5)        # 3.5 - optimum
"""

from ferrotune.benchmarks._problems import (
    PROBLEMS,
    Constraint,
    DivisibleConstraint,
    LinearConstraint,
    Param,
    Problem,
    ackley,
    branin,
    constrained,
    get_problem,
    hartmann3,
    hartmann6,
    levy,
    mixed,
    rosenbrock,
    self_check,
    styblinski_tang,
)

__all__ = [
    "PROBLEMS",
    "Constraint",
    "DivisibleConstraint",
    "LinearConstraint",
    "Param",
    "Problem",
    "ackley",
    "branin",
    "constrained",
    "get_problem",
    "hartmann3",
    "hartmann6",
    "levy",
    "mixed",
    "rosenbrock",
    "self_check",
    "styblinski_tang",
]
