"""The running example: a Transformer search space with d_model % n_heads == 0 and
Adam-only parameters."""

from __future__ import annotations

import math
import pathlib
import subprocess
import sys
from typing import Any

import pytest

import ferrotune
from ferrotune import Condition, Divisible, SearchSpace
from ferrotune.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from tests._support import SAMPLERS, in_distribution

REPO = pathlib.Path(__file__).resolve().parent.parent
N_DRAWS = 2000
# A GP ask costs O(n^3) in the number of trials, so the GP draws fewer.
GP_DRAWS = 300


def transformer_space(
    d_models: tuple[int, ...] = (128, 256, 512), n_heads: tuple[int, ...] = (4, 8, 16)
) -> SearchSpace:
    return SearchSpace(
        {
            "learning_rate": FloatDistribution(1e-5, 1e-2, log=True),
            "d_model": CategoricalDistribution(list(d_models)),
            "n_heads": CategoricalDistribution(list(n_heads)),
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


ALWAYS = {
    "learning_rate",
    "d_model",
    "n_heads",
    "num_encoder_layers",
    "dropout",
    "activation",
    "optimizer",
}


def _check(space: SearchSpace, p: dict[str, Any]) -> None:
    assert p["d_model"] % p["n_heads"] == 0, p
    adam = p["optimizer"] == "adam"
    assert set(p) == (ALWAYS | {"beta1", "beta2"} if adam else ALWAYS), p
    for name, value in p.items():
        assert in_distribution(space.distributions[name], value), (name, value)


def _draw(space: SearchSpace, sampler_name: str, n: int) -> list[dict[str, Any]]:
    study = ferrotune.create_study(sampler=SAMPLERS[sampler_name](2024))
    if sampler_name == "gp":
        n = min(n, GP_DRAWS)
    out = []
    for i in range(n):
        trial = study.ask(space)
        out.append(trial.params)
        study.tell(trial, float(i))
    return out


@pytest.mark.parametrize("sampler_name", list(SAMPLERS))
def test_two_thousand_draws_respect_the_space(sampler_name: str) -> None:
    space = transformer_space()
    draws = _draw(space, sampler_name, N_DRAWS)
    for p in draws:
        _check(space, p)
    if sampler_name in ("cmaes", "ga"):
        # Values told in asking order rank CMA-ES's samples at random, so its mean
        # wanders and need not reach every value; the GA's (mu + lambda) pool keeps the
        # first (best) trials for good and breeds near them. Every draw is valid
        # (checked above).
        return
    pairs = {(p["d_model"], p["n_heads"]) for p in draws}
    assert pairs == {(d, h) for d in (128, 256, 512) for h in (4, 8, 16) if d % h == 0}
    assert {p["num_encoder_layers"] for p in draws} == {2, 3, 4, 5, 6}
    if sampler_name.startswith(("tpe", "gp", "nsga", "de", "pso", "ga")):
        return  # a model-based or population sampler concentrates its draws on purpose
    adam = sum(p["optimizer"] == "adam" for p in draws)
    assert 0.4 < adam / N_DRAWS < 0.6
    # The log-uniform learning rate puts about a third of its draws in each decade.
    low_decade = sum(p["learning_rate"] < 1e-4 for p in draws)
    assert abs(low_decade / N_DRAWS - 1 / 3) < 0.06


@pytest.mark.parametrize("sampler_name", list(SAMPLERS))
def test_constraint_that_rejects_pairs(sampler_name: str) -> None:
    """A variant where the divisibility constraint removes most pairs."""
    d_models = (96, 128, 192, 256, 512)
    heads = (3, 4, 6, 8, 12, 16)
    space = transformer_space(d_models, heads)
    draws = _draw(space, sampler_name, N_DRAWS)
    for p in draws:
        _check(space, p)
    feasible = {(d, h) for d in d_models for h in heads if d % h == 0}
    assert len(feasible) < len(d_models) * len(heads)
    seen = {(p["d_model"], p["n_heads"]) for p in draws}
    assert seen <= feasible
    if sampler_name in ("gp", "cmaes") or sampler_name.startswith("nsga"):
        # 300 GP draws (or CMA-ES / NSGA generations) told increasing values concentrate near
        # the first ones on purpose: most, not necessarily all, of the 21 feasible pairs come up.
        assert len(seen) >= 0.9 * len(feasible), sorted(feasible - seen)
    else:
        assert seen == feasible


def test_optimize_the_transformer_example() -> None:
    space = transformer_space()
    study = ferrotune.create_study(sampler=SAMPLERS["random"](0))

    def objective(trial: ferrotune.Trial) -> float:
        p = trial.params
        _check(space, p)
        loss = (math.log10(p["learning_rate"]) + 3) ** 2 + p["dropout"]
        if p["optimizer"] == "adam":
            loss += (p["beta1"] - 0.9) ** 2
        return loss

    study.optimize(objective, n_trials=200, space=space)
    assert len(study.trials) == 200
    assert study.best_value < 0.3


def test_the_packaged_example_space_is_the_same() -> None:
    examples = pytest.importorskip("ferrotune.examples")
    packaged = examples.transformer_space()
    ours = transformer_space()
    assert packaged.distributions == ours.distributions
    assert packaged.conditions == ours.conditions
    assert packaged.constraints == ours.constraints


def test_example_script_runs() -> None:
    script = REPO / "examples" / "transformer_space.py"
    if not script.exists():
        pytest.skip("examples/transformer_space.py is not in this checkout")
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=REPO
    )
    assert out.returncode == 0, out.stderr
    assert "best" in out.stdout
