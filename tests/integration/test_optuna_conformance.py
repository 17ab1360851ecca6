"""Optuna's own reusable sampler tests (``optuna.testing.pytest_samplers``) run against every
sampler of :mod:`ferrotune.integration.optuna`, chosen as Optuna's ``test_samplers.py``
chooses its own samplers for each case: model samplers with ``n_startup_trials=0`` so the
model is exercised."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

optuna = pytest.importorskip("optuna")

from optuna.testing.pytest_samplers import (  # noqa: E402
    BasicSamplerTestCase,
    MultiObjectiveSamplerTestCase,
    RelativeSamplerTestCase,
    SingleOnlySamplerTestCase,
)

from ferrotune.integration import optuna as fo  # noqa: E402

Factory = Callable[[], Any]

ALL: dict[str, Factory] = {
    "Random": lambda: fo.RandomSampler(seed=0),
    "TPE": lambda: fo.TPESampler(n_startup_trials=0, seed=0),
    "TPE univariate": lambda: fo.TPESampler(n_startup_trials=0, multivariate=False, seed=0),
    "GP": lambda: fo.GPSampler(n_startup_trials=0, seed=0),
    "QMC": lambda: fo.QMCSampler(seed=0),
    "CmaEs": lambda: fo.CmaEsSampler(n_startup_trials=0, seed=0),
    "CmaEs separable": lambda: fo.CmaEsSampler(n_startup_trials=0, use_separable_cma=True, seed=0),
    "NSGAII": lambda: fo.NSGAIISampler(population_size=4, seed=0),
    "NSGAIII": lambda: fo.NSGAIIISampler(population_size=4, seed=0),
    "DE": lambda: fo.DESampler(population_size=4, seed=0),
    "PSO": lambda: fo.PSOSampler(swarm_size=4, seed=0),
    "TrustRegion": lambda: fo.TrustRegionSampler(seed=0),
    "GA": lambda: fo.GASampler(population_size=4, seed=0),
    "BOHB": lambda: fo.BOHBSampler(seed=0),
    "DEHB": lambda: fo.DEHBSampler(seed=0),
}

# GridSampler, BruteForceSampler and PartialFixedSampler are in none of the cases below:
# Optuna's own test_samplers.py runs none of its grid, brute-force or partial-fixed samplers
# through them (the cases suggest from continuous ranges that a grid cannot cover, and
# PartialFixedSampler is itself exercised by the basic case's test_partial_fixed_sampling).
# tests/integration/test_optuna_grid.py tests those adapters instead.

SINGLE_ONLY = ["CmaEs", "CmaEs separable", "DE", "PSO", "TrustRegion", "GA", "BOHB", "DEHB"]


def _params(names: list[str]) -> list[Any]:
    return [pytest.param(ALL[n], id=n) for n in names]


class TestBasic(BasicSamplerTestCase):
    # Every adapter, as Optuna runs every one of its samplers through this case.
    @pytest.fixture(params=_params(list(ALL)))
    def sampler(self, request: pytest.FixtureRequest) -> Factory:
        return request.param  # type: ignore[no-any-return]


class TestRelative(RelativeSamplerTestCase):
    # Every adapter that samples jointly (Optuna runs its TPE, CMA-ES and GP here; the
    # population samplers and QMC pass it too). RandomSampler and univariate TPE sample
    # nothing jointly (sample_relative returns {}), as Optuna's, which it leaves out too.
    @pytest.fixture(params=_params([n for n in ALL if n not in ("Random", "TPE univariate")]))
    def sampler(self, request: pytest.FixtureRequest) -> Factory:
        return request.param  # type: ignore[no-any-return]


class TestMultiObjective(MultiObjectiveSamplerTestCase):
    # Every adapter whose sampler takes several objectives (Optuna runs its NSGA-II/III,
    # TPE and GP here).
    @pytest.fixture(params=_params([n for n in ALL if n not in SINGLE_ONLY]))
    def sampler(self, request: pytest.FixtureRequest) -> Factory:
        return request.param  # type: ignore[no-any-return]


class TestSingleOnly(SingleOnlySamplerTestCase):
    # Optuna runs its CMA-ES here; ferrotune's DE, PSO, GA, BOHB and DEHB are
    # single-objective too.
    @pytest.fixture(params=_params(SINGLE_ONLY))
    def sampler(self, request: pytest.FixtureRequest) -> Factory:
        return request.param  # type: ignore[no-any-return]
