"""Bad input to the compiled core's helpers is an InvalidArgumentError naming the
problem, never a panic, a hang or a silently wrong answer."""

from __future__ import annotations

import pytest

from ferrotune import SearchSpace, _core
from ferrotune.distributions import IntDistribution
from ferrotune.exceptions import InvalidArgumentError


def _space() -> SearchSpace:
    return SearchSpace({"x": IntDistribution(0, 3), "y": IntDistribution(0, 3)})


def test_grid_fit_rejects_bad_columns_naming_the_parameter() -> None:
    space = _space()
    good = (0, [0.0, 1.0], [0.0, 1.0])
    with pytest.raises(InvalidArgumentError, match='parameter "y"') as e:
        _core.GridFitCore(space._core, [good, (1, [0.0, 1.0], [0.0])], True)
    assert "values" in str(e.value)
    with pytest.raises(InvalidArgumentError, match="increasing"):
        _core.GridFitCore(space._core, [(0, [1.0, 0.0], [1.0, 0.0]), None], True)
    with pytest.raises(InvalidArgumentError, match="increasing"):
        _core.GridFitCore(space._core, [(0, [0.0, float("nan")], [0.0, 1.0]), None], True)
    # A column outside the grid's points: an error when a point is checked.
    fit = _core.GridFitCore(space._core, [good, (5, [0.0], [0.0])], True)
    points = _core.GridPointsCore.product([2, 2])
    with pytest.raises(InvalidArgumentError, match="column 5"):
        fit.fits(points, 0)


def test_grid_order_state_of_another_size_is_refused() -> None:
    order = _core.GridOrderCore(10, 1)
    other = _core.GridOrderCore(12, 1)
    with pytest.raises(InvalidArgumentError, match="12 points"):
        order.set_state(other.get_state())
    order.set_state(_core.GridOrderCore(10, 5).get_state())
    assert order.size() == 10


def test_qmc_huge_dimension_and_index_are_errors_not_aborts() -> None:
    qmc = _core.QmcSamplerCore("sobol", True, 0)
    with pytest.raises(InvalidArgumentError, match="1000"):
        qmc.point(0, 2**40)
    with pytest.raises(InvalidArgumentError, match="Halton"):
        _core.QmcSamplerCore("halton", False, 0).next_point(2**40)
    qmc.index = 2**64 - 1
    with pytest.raises(InvalidArgumentError, match="index"):
        qmc.next_point(2)
    assert qmc.index == 2**64 - 1


def test_remote_batch_loads_any_state_code_unknown_ones_as_fail() -> None:
    core = _core.StudyCore([False])
    trials = [(10, 0, 1, None, None), (11, 1, 300, None, None), (12, 2, -1, None, None)]
    rejected = core.apply_remote_batch(trials, [[0.5], [0.1], [0.2]], [[], [], []], [], [], [])
    assert [n for n, _ in rejected] == [1, 2]
    assert all("unknown state" in reason for _, reason in rejected)
    assert core.state(0) == _core.TrialState.COMPLETE
    assert core.state(1) == core.state(2) == _core.TrialState.FAIL


def test_ensure_trial_far_beyond_the_study_is_refused() -> None:
    core = _core.StudyCore([False])
    with pytest.raises(InvalidArgumentError, match="far beyond"):
        core.ensure_trial(2**40, _core.TrialState.RUNNING)
    assert core.n_trials() == 0
    core.ensure_trial(2, _core.TrialState.RUNNING)
    assert core.n_trials() == 3


def test_discrete_value_past_the_end_is_an_error() -> None:
    dist = _core.Dist.int("k", 0, 10, 5, False)
    assert dist.discrete_value(2) == 10.0
    for k in (3, 2**64 - 1):
        with pytest.raises(InvalidArgumentError, match="out of range"):
            dist.discrete_value(k)
    with pytest.raises(InvalidArgumentError, match="continuous"):
        _core.Dist.float("x", 0.0, 1.0, None, False).discrete_value(0)
