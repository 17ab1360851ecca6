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

from ferrotune.benchmarks._digits import (
    DIGITS_MAX_EPOCHS,
    DIGITS_TABLE_TOLERANCE,
    digits_mlp,
    digits_mlp_tabular,
    digits_table_grid,
    train_digits_mlp,
)
from ferrotune.benchmarks._multi_fidelity import (
    MultiFidelityProblem,
    mf_branin,
    mf_hartmann3,
    mf_hartmann6,
    self_check_multi_fidelity,
)
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
from ferrotune.benchmarks._registry import MULTI_FIDELITY_PROBLEMS, get_multi_fidelity_problem

__all__ = [
    "DIGITS_MAX_EPOCHS",
    "DIGITS_TABLE_TOLERANCE",
    "MULTI_FIDELITY_PROBLEMS",
    "PROBLEMS",
    "Constraint",
    "DivisibleConstraint",
    "LinearConstraint",
    "MultiFidelityProblem",
    "Param",
    "Problem",
    "ackley",
    "branin",
    "constrained",
    "digits_mlp",
    "digits_mlp_tabular",
    "digits_table_grid",
    "get_multi_fidelity_problem",
    "get_problem",
    "hartmann3",
    "hartmann6",
    "levy",
    "mf_branin",
    "mf_hartmann3",
    "mf_hartmann6",
    "mixed",
    "rosenbrock",
    "self_check",
    "self_check_multi_fidelity",
    "styblinski_tang",
    "train_digits_mlp",
]
