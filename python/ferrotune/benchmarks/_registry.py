"""The multi-fidelity problems by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ferrotune.benchmarks._digits import digits_mlp, digits_mlp_tabular
from ferrotune.benchmarks._multi_fidelity import (
    MultiFidelityProblem,
    mf_branin,
    mf_hartmann3,
    mf_hartmann6,
)
from ferrotune.exceptions import InvalidArgumentError

MULTI_FIDELITY_PROBLEMS: dict[str, Callable[..., MultiFidelityProblem]] = {
    "mf_branin": mf_branin,
    "mf_hartmann3": mf_hartmann3,
    "mf_hartmann6": mf_hartmann6,
    "digits_mlp": digits_mlp,
    "digits_mlp_tabular": digits_mlp_tabular,
    "digits_mlp_logloss": lambda **kw: _log_loss(digits_mlp, "digits_mlp_logloss", kw),
    "digits_mlp_logloss_tabular": lambda **kw: _log_loss(
        digits_mlp_tabular, "digits_mlp_logloss_tabular", kw
    ),
    # The tables' other lookups, under the names their problems carry.
    "digits_mlp_tabular_interpolated": lambda **kw: _fixed(
        digits_mlp_tabular,
        "digits_mlp_tabular_interpolated",
        kw,
        metric="error",
        interpolate=True,
    ),
    "digits_mlp_logloss_tabular_nearest": lambda **kw: _fixed(
        digits_mlp_tabular,
        "digits_mlp_logloss_tabular_nearest",
        kw,
        metric="log_loss",
        interpolate=False,
    ),
}


def _fixed(
    factory: Callable[..., MultiFidelityProblem],
    name: str,
    kwargs: dict[str, Any],
    **fixed: Any,
) -> MultiFidelityProblem:
    """``factory`` with the arguments ``fixed`` that ``name`` stands for; another value for
    one of them contradicts the name."""
    for key, value in fixed.items():
        if key in kwargs and kwargs[key] != value:
            raise InvalidArgumentError(
                f"{name} stands for {key}={value!r}; got {key}={kwargs[key]!r}"
            )
    return factory(**{**kwargs, **fixed})


def _log_loss(
    factory: Callable[..., MultiFidelityProblem], name: str, kwargs: dict[str, Any]
) -> MultiFidelityProblem:
    """``factory`` with ``metric="log_loss"``; another metric contradicts the name."""
    if kwargs.get("metric", "log_loss") != "log_loss":
        raise InvalidArgumentError(
            f"{name} is the log-loss problem; got metric={kwargs['metric']!r}"
            " (use digits_mlp or digits_mlp_tabular for the error)"
        )
    return factory(**{**kwargs, "metric": "log_loss"})


def get_multi_fidelity_problem(name: str, **kwargs: Any) -> MultiFidelityProblem:
    """Build the multi-fidelity problem called ``name``; keyword arguments go to its factory
    (e.g. ``max_budget``, ``seed``)."""
    try:
        factory = MULTI_FIDELITY_PROBLEMS[name]
    except KeyError:
        known = ", ".join(sorted(MULTI_FIDELITY_PROBLEMS))
        raise InvalidArgumentError(
            f"unknown multi-fidelity problem {name!r}; known problems: {known}"
        ) from None
    return factory(**kwargs)
