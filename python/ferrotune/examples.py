"""The running example: tuning a Transformer for time series.

``transformer_space()`` declares the Transformer's search space, with the hard
constraint that ``d_model`` is divisible by ``n_heads`` and Adam's betas active only
for Adam. ``transformer_loss`` is a synthetic, deterministic stand-in for a validation
loss (no deep-learning framework needed), with its minimum inside the feasible set.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ferrotune._search_space import Condition, Divisible, SearchSpace
from ferrotune.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

__all__ = ["transformer_loss", "transformer_space"]


def transformer_space() -> SearchSpace:
    """The Transformer search space with ``d_model % n_heads == 0``.

    Example:
        >>> space = transformer_space()
        >>> sorted(space.names)[:3]
        ['activation', 'beta1', 'beta2']
    """
    return SearchSpace(
        {
            "learning_rate": FloatDistribution(1e-5, 1e-2, log=True),
            "d_model": CategoricalDistribution([128, 256, 512]),
            "n_heads": CategoricalDistribution([4, 8, 16]),
            "num_encoder_layers": IntDistribution(2, 6),
            "dropout": FloatDistribution(0.1, 0.3),
            "activation": CategoricalDistribution(["relu", "gelu"]),
            "optimizer": CategoricalDistribution(["adam", "sgd"]),
            "beta1": FloatDistribution(0.8, 0.99),
            "beta2": FloatDistribution(0.9, 0.9999),
        },
        conditions={
            "beta1": Condition("optimizer", ["adam"]),
            "beta2": Condition("optimizer", ["adam"]),
        },
        constraints=[Divisible("d_model", "n_heads")],
    )


def transformer_loss(params: Mapping[str, Any]) -> float:
    """A smooth synthetic validation loss over :func:`transformer_space` (lower is better).

    Best near learning_rate = 1e-3, d_model = 256 with 8 heads (head size 32),
    4 layers, dropout 0.15, gelu, adam with beta1 = 0.9 and beta2 = 0.999.
    """
    lr_term = (math.log10(params["learning_rate"]) + 3.0) ** 2
    head_dim = params["d_model"] / params["n_heads"]
    width_term = (
        0.3 * (math.log2(head_dim) - 5.0) ** 2 + 0.2 * (math.log2(params["d_model"]) - 8.0) ** 2
    )
    depth_term = 0.05 * (params["num_encoder_layers"] - 4) ** 2
    dropout_term = 4.0 * (params["dropout"] - 0.15) ** 2
    act_term = 0.0 if params["activation"] == "gelu" else 0.05
    if params["optimizer"] == "adam":
        opt_term = 10.0 * (params["beta1"] - 0.9) ** 2 + 100.0 * (params["beta2"] - 0.999) ** 2
    else:
        opt_term = 0.3
    total = 0.5 + lr_term + width_term + depth_term + dropout_term + act_term + opt_term
    return float(total)
