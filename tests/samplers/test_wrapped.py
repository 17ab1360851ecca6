"""A sampler of the user's own around ferrotune's samplers (Optuna's wrapper pattern)."""

from __future__ import annotations

from typing import Any

import pytest

import ferrotune


@pytest.mark.parametrize(
    ("name", "same"),
    [("TPESampler", True), ("GPSampler", True), ("CmaEsSampler", True), ("DESampler", False)],
)
def test_a_sampler_of_the_users_own_may_delegate_to_a_ferrotune_sampler(
    name: str, same: bool
) -> None:
    """Optuna's wrapper pattern (a BaseSampler subclass passing its three methods on to an
    inner sampler) raised 'samples only for the study it belongs to' for every sampler
    with a Rust model. The wrapped sampler now proposes what it proposes installed
    directly (DE's first trials come from the wrapper's independent draws instead of its
    own initial population: other points, the same seed giving the same run)."""
    from ferrotune.samplers import BaseSampler

    class Logging(BaseSampler):
        def __init__(self, inner: BaseSampler) -> None:
            self.inner = inner
            self.calls = 0

        def infer_relative_search_space(self, study: Any, trial: Any) -> Any:
            return self.inner.infer_relative_search_space(study, trial)

        def sample_relative(self, study: Any, trial: Any, space: Any) -> Any:
            self.calls += 1
            return self.inner.sample_relative(study, trial, space)

        def sample_independent(self, study: Any, trial: Any, name: str, dist: Any) -> Any:
            return self.inner.sample_independent(study, trial, name, dist)

    def objective(t: ferrotune.Trial) -> float:
        return (t.suggest_float("x", -5, 5) - 1) ** 2 + (t.suggest_int("n", 0, 9) - 3) ** 2

    cls = getattr(ferrotune.samplers, name)
    wrapper = Logging(cls(seed=0))
    wrapped = ferrotune.create_study(sampler=wrapper)
    wrapped.optimize(objective, n_trials=25)
    direct = ferrotune.create_study(sampler=cls(seed=0))
    direct.optimize(objective, n_trials=25)
    assert wrapper.calls >= 24  # every trial with a joint space (not the first)
    if same:
        assert [t.params for t in wrapped.trials] == [t.params for t in direct.trials]
    again = ferrotune.create_study(sampler=Logging(cls(seed=0)))
    again.optimize(objective, n_trials=25)
    assert [t.params for t in again.trials] == [t.params for t in wrapped.trials]
    assert all(-5 <= t.params["x"] <= 5 and 0 <= t.params["n"] <= 9 for t in wrapped.trials)
