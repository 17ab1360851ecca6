"""Test problems with known optima, used by ferrotune's tests and benchmarks.

All problems are minimised. Each :class:`Problem` carries its search space twice: ``params``, a
library-neutral description (:class:`Param`), and ``space``, the same as ferrotune distributions.

Example::

    from ferrotune.benchmarks import get_problem

    problem = get_problem("rosenbrock", dim=5)
    problem.space              # {"x0": FloatDistribution(-5.0, 10.0), ...}
    problem(problem.optimal_params) == problem.optimum  # True
    problem.regret(3.5)        # 3.5 - optimum

Single-objective problems by name (:data:`PROBLEMS`): continuous ``branin``, ``hartmann3``,
``hartmann6``, ``six_hump_camel``, ``goldstein_price``, ``michalewicz``, ``rosenbrock``,
``ackley``, ``levy``, ``rastrigin``, ``styblinski_tang``, ``griewank``, ``schwefel``,
``zakharov``, ``dixon_price``, ``sum_squares`` (Surjanovic & Bingham's definitions; most take
``dim``); categorical and integer ``func2c``, ``func3c`` (CoCaBO), ``ackley_cat``
(CASMOPOLITAN), ``rosenbrock_int``, ``mixed``; conditional ``transformer`` (the running
example; ``Param.condition`` marks a conditional parameter, ``problem.active(params)`` drops the
inactive ones and ``problem.search_space`` is the ferrotune :class:`~ferrotune.SearchSpace`);
constrained ``constrained``. :func:`shifted` moves a problem's landscape (COCO-style shifts).

Multi-objective problems (:class:`MultiObjectiveProblem`): :func:`zdt1`, :func:`zdt2`,
:func:`zdt3` (30 variables, 2 objectives) and :func:`dtlz2` (3 objectives), each with a
documented reference point and the hypervolume of its true Pareto front
(``problem.hypervolume_gap(values)`` is 0 on the front).

Multi-fidelity problems (:class:`MultiFidelityProblem`, by name through
:func:`get_multi_fidelity_problem`) take a budget as well: ``evaluate(params, budget)`` with
``budget`` in ``[min_budget, max_budget]``; the full budget is the true objective, lower budgets
a cheaper, biased but rank-correlated approximation; ``cost(budget) = budget / max_budget``;
``steps(params)`` yields the value at budgets 1, 2, ... for ``trial.report`` loops.
Out-of-range budgets and parameters raise :class:`~ferrotune.exceptions.InvalidArgumentError`.

- :func:`mf_branin`, :func:`mf_hartmann3`, :func:`mf_hartmann6`: Branin and Hartmann with the
  fidelity-dependent coefficients of Kandasamy et al. (2017), the Hartmann ones as mfpbench's
  ``mfh3`` / ``mfh6`` (bias 0.5, seeded noise 0.1, budgets 1..100), the versions DEHB reports
  on; at the full budget they are :func:`branin`, :func:`hartmann3`, :func:`hartmann6`, with
  the same optima (0.397887, -3.86278, -3.32237).
- :func:`digits_mlp`: a real learning task, an MLP on scikit-learn's ``load_digits`` trained one
  epoch per budget unit (1..27), returning the validation error; needs scikit-learn.
- :func:`digits_mlp_tabular`: the same curves read from a bundled table over a grid (fast,
  repeatable, no scikit-learn); its optimum is the best grid point.
- ``"digits_mlp_logloss"``, ``"digits_mlp_logloss_tabular"``: both with ``metric="log_loss"``,
  the validation cross-entropy instead of the error (which moves in steps of 1/360).

Example::

    from ferrotune.benchmarks import get_multi_fidelity_problem

    problem = get_multi_fidelity_problem("mf_hartmann6")
    problem.evaluate(problem.optimal_params, budget=100) == problem.optimum  # True
    problem.evaluate(problem.optimal_params, budget=3)   # biased upwards
"""

from ferrotune.benchmarks._digits import (
    DIGITS_MAX_EPOCHS,
    DIGITS_METRICS,
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
from ferrotune.benchmarks._multi_objective import (
    MULTI_OBJECTIVE_PROBLEMS,
    ZDT3_FRONT_HYPERVOLUME,
    MultiObjectiveProblem,
    dtlz2,
    zdt1,
    zdt2,
    zdt3,
)
from ferrotune.benchmarks._problems import (
    PROBLEMS,
    Constraint,
    DivisibleConstraint,
    LinearConstraint,
    Param,
    Problem,
    ackley,
    ackley_cat,
    branin,
    constrained,
    dixon_price,
    func2c,
    func3c,
    get_problem,
    goldstein_price,
    griewank,
    hartmann3,
    hartmann6,
    levy,
    michalewicz,
    mixed,
    rastrigin,
    rosenbrock,
    rosenbrock_int,
    schwefel,
    self_check,
    shifted,
    six_hump_camel,
    styblinski_tang,
    sum_squares,
    transformer,
    zakharov,
)
from ferrotune.benchmarks._registry import MULTI_FIDELITY_PROBLEMS, get_multi_fidelity_problem

__all__ = [
    "DIGITS_MAX_EPOCHS",
    "DIGITS_METRICS",
    "DIGITS_TABLE_TOLERANCE",
    "MULTI_FIDELITY_PROBLEMS",
    "MULTI_OBJECTIVE_PROBLEMS",
    "PROBLEMS",
    "ZDT3_FRONT_HYPERVOLUME",
    "Constraint",
    "DivisibleConstraint",
    "LinearConstraint",
    "MultiFidelityProblem",
    "MultiObjectiveProblem",
    "Param",
    "Problem",
    "ackley",
    "branin",
    "constrained",
    "digits_mlp",
    "digits_mlp_tabular",
    "digits_table_grid",
    "dtlz2",
    "get_multi_fidelity_problem",
    "get_problem",
    "hartmann3",
    "hartmann6",
    "levy",
    "mf_branin",
    "mf_hartmann3",
    "mf_hartmann6",
    "mixed",
    "rastrigin",
    "rosenbrock",
    "self_check",
    "self_check_multi_fidelity",
    "shifted",
    "styblinski_tang",
    "train_digits_mlp",
    "zdt1",
    "zdt2",
    "zdt3",
    "ackley_cat",
    "dixon_price",
    "func2c",
    "func3c",
    "goldstein_price",
    "griewank",
    "michalewicz",
    "rosenbrock_int",
    "schwefel",
    "six_hump_camel",
    "sum_squares",
    "transformer",
    "zakharov",
]
