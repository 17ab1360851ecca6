"""Pruning a study with several objectives: ``report`` takes one float per objective and
SuccessiveHalvingPruner / HyperbandPruner promote by non-dominated rank and crowding
distance at a rung (MO-ASHA with NSGA-II's order). Hand-computed rungs, an independent
reference of the rule, optimize() on SQLite, persistence and bad input."""

from __future__ import annotations

import math
import pickle
import random
import sqlite3
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

import ferrotune
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.pruners import (
    HyperbandPruner,
    MedianPruner,
    SuccessiveHalvingPruner,
    ThresholdPruner,
)
from ferrotune.samplers import RandomSampler
from ferrotune.storages import RDBStorage
from ferrotune.trial import TrialState, create_trial

INF = math.inf


# ----------------------------------------------------------- an independent reference


def _dominates(a: list[float], b: list[float]) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(
        x < y for x, y in zip(a, b, strict=True)
    )


def ref_promoted(points: list[list[float]], i: int, k: int) -> bool:
    """The rule, written plainly: fronts by peeling non-dominated sets, crowding distance
    by the textbook formula over the front's distinct vectors (an objective constant over
    the front adds nothing), promoted when fewer than ``k`` vectors are strictly ahead
    (``k == 0``: when non-dominated). ``points`` are minimised."""
    left, rank, r = set(range(len(points))), {}, 0
    while left:
        front = {p for p in left if not any(_dominates(points[q], points[p]) for q in left)}
        rank.update(dict.fromkeys(front, r))
        left -= front
        r += 1
    if k == 0:
        return rank[i] == 0
    members = [j for j in range(len(points)) if rank[j] == rank[i]]
    distinct = sorted({tuple(points[j]) for j in members})
    dist = dict.fromkeys(distinct, 0.0)
    for m in range(len(points[i])):
        order = sorted(distinct, key=lambda d: (d[m], d))
        lo, hi = order[0][m], order[-1][m]
        if lo == hi:
            continue
        dist[order[0]] = dist[order[-1]] = INF
        for a, b, c in zip(order, order[1:], order[2:], strict=False):
            dist[b] += (c[m] - a[m]) / (hi - lo)
    mine = dist[tuple(points[i])]
    ahead = sum(rank[j] < rank[i] for j in range(len(points)))
    ahead += sum(dist[tuple(points[j])] > mine for j in members)
    return ahead < k


def _minimised(v: list[float], directions: list[str]) -> list[float]:
    return [-x if d == "maximize" else x for x, d in zip(v, directions, strict=True)]


# ------------------------------------------------------------------ hand-computed rungs


def run(study: ferrotune.Study, v: list[float], max_step: int) -> tuple[int, bool]:
    """A trial reporting vector ``v`` at steps 1..max_step, checked after each report and
    stopped when pruned: (last step, pruned)."""
    t = study.ask()
    for s in range(1, max_step + 1):
        t.report(v, s)
        if t.should_prune():
            study.tell(t, state=TrialState.PRUNED)
            return s, True
    study.tell(t, v)
    return max_step, False


@pytest.mark.parametrize("second", ["minimize", "maximize"])
def test_two_objectives_by_hand(second: str) -> None:
    # min_resource 1, eta 2: rungs at steps 1, 2, 4, 8; k = n // 2 at a rung of n vectors.
    study = ferrotune.create_study(
        directions=["minimize", second], pruner=SuccessiveHalvingPruner(1, 2)
    )
    sign = -1.0 if second == "maximize" else 1.0  # the mirrored problem: same decisions
    vectors = [
        [2.0, 2.0],  # alone at every rung: k = 0, non-dominated
        [1.0, 3.0],  # k = 1: front 0 = (2,2) (1,3), both ends (infinite distance)
        [3.0, 3.0],  # k = 1: dominated by (2,2): front 1, one vector ahead -> pruned
        [0.0, 0.0],  # dominates every vector
        [math.nan, 0.0],  # a NaN objective: pruned, not recorded
        # k = 2: front 0 = (0,0); front 1 = (1,3) (1.5,1.5), both ends: one vector ahead.
        [1.5, 1.5],
        # k = 3: front 1 = (1,3) (1.4,1.6) (1.5,1.5): it is the middle, distance
        # 0.5/0.5 + 1.5/1.5 = 2, behind (0,0) and the two ends: three ahead -> pruned.
        [1.4, 1.6],
    ]
    got = [run(study, [a, sign * b], 10) for a, b in vectors]
    assert got == [
        (10, False),
        (10, False),
        (1, True),
        (10, False),
        (1, True),
        (10, False),
        (1, True),
    ]
    # A pruned trial keeps its last vector as its values (none for the NaN one).
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    assert pruned[0].values == [3.0, sign * 3.0]
    assert pruned[1].values is None
    assert study.trials[1].intermediate_values[8] == [1.0, sign * 3.0]


def test_three_objectives_mixed_directions_and_ties() -> None:
    # eta 3, first rung at step 1 (the trials stop there). Objective 1 is minimised, the
    # others maximised; in minimised form the vectors below are those of the comments.
    dirs = ["maximize", "minimize", "maximize"]
    study = ferrotune.create_study(directions=dirs, pruner=SuccessiveHalvingPruner(1, 3))

    def check(v: list[float]) -> bool:
        return run(study, v, 1)[1]

    assert not check([1.0, -1.0, 1.0])  # n 1, k 0: alone
    assert not check([2.0, 0.0, 1.0])  # n 2, k 0: non-dominated
    assert check([0.0, 0.0, 0.0])  # n 3, k 1: dominated by (1,-1,1)
    # n 4, k 1: front 0 = the first two and this one; it ends objectives 0 and 1
    # (infinite distance): none strictly ahead.
    assert not check([0.0, -3.0, 0.0])
    # n 5, k 1: the same vector again shares that infinite distance: a tie, promoted.
    assert not check([0.0, -3.0, 0.0])
    # n 6, k 2: (1,-1,1) is the middle of every objective (distance 1 + 1 + 1 = 3);
    # (2,0,1) and the two (0,-3,0) are ends (infinite): a copy of it is behind three.
    assert check([1.0, -1.0, 1.0])
    assert check([1.0, math.inf, math.nan])  # NaN in any objective: pruned
    # The same rungs through the reference rule.
    points: list[list[float]] = []
    decisions = []
    for t in study.trials:
        v = t.intermediate_values[1]
        if any(math.isnan(x) for x in v):
            decisions.append(False)
            continue
        points.append(_minimised(v, dirs))
        decisions.append(ref_promoted(points, len(points) - 1, len(points) // 3))
    assert decisions == [t.state == TrialState.COMPLETE for t in study.trials]


@pytest.mark.parametrize("seed", range(6))
def test_rung_decisions_match_the_reference(seed: int) -> None:
    # Random vectors on a coarse grid (many ties and duplicates), 2 or 3 objectives,
    # mixed directions, eta 2 or 3, bootstrap 0 or 2: each first-rung decision equals
    # the plain rule's.
    rng = random.Random(seed)
    m = 2 + seed % 2
    eta = 2 + seed % 3 // 2
    boot = 2 * (seed % 2)
    dirs = [rng.choice(["minimize", "maximize"]) for _ in range(m)]
    study = ferrotune.create_study(
        directions=dirs, pruner=SuccessiveHalvingPruner(1, eta, bootstrap_count=boot)
    )
    points: list[list[float]] = []
    for _ in range(60):
        v = [float(rng.randint(0, 4)) for _ in range(m)]
        pruned = run(study, v, 1)[1]
        points.append(_minimised(v, dirs))
        n = len(points)
        want = n > boot and ref_promoted(points, n - 1, n // eta)
        assert pruned == (not want), (points, n)
        if n // eta == 0 and n > boot and not any(_dominates(p, points[-1]) for p in points):
            assert not pruned  # non-dominated while k = 0: never pruned


# --------------------------------------------------------------- optimize() end to end


def _zdt_curve(sign: float) -> Callable[[ferrotune.Trial], list[float]]:
    """A two-objective problem (ZDT1-like, objective 1 times ``sign``) whose objectives
    improve with the step, with NaN reports for some configurations from step 4 on (in
    objective 0, or 1 when ``sign`` is negative)."""

    def objective(trial: ferrotune.Trial) -> list[float]:
        x = trial.suggest_float("x", 0.0, 1.0)
        y = trial.suggest_float("y", 0.0, 1.0)
        v = [x, sign]
        for step in range(1, 17):
            g = 1.0 + y + 1.0 / step
            v = [x, sign * g * (1.0 - math.sqrt(x / g))]
            if y > 0.9 and step >= 4:
                v[0 if sign > 0 else 1] = math.nan
            trial.report(v, step)
            if trial.should_prune():
                raise ferrotune.TrialPruned()
        return v

    return objective


def _replay(
    trials: list[ferrotune.FrozenTrial],
    dirs: list[str],
    eta: int,
    rungs_of: Callable[[int], tuple[int, list[int]]],
) -> None:
    """Checks each trial's fate against the reference rule. Trials ran one after the
    other, so a rung held the vectors the earlier trials of the same bracket recorded
    there (a NaN one is not recorded) and the trial's own. ``rungs_of(number)`` gives
    the trial's bracket and its rung steps."""
    held: dict[tuple[int, int], list[list[float]]] = {}
    for t in trials:
        bracket, steps = rungs_of(t.number)
        stopped = None
        for r, step in enumerate(steps):
            v = _minimised(t.intermediate_values[step], dirs)
            if any(math.isnan(x) for x in v):
                stopped = step
                break
            rung = held.setdefault((bracket, r), [])
            rung.append(v)
            k = len(rung) // eta
            if not ref_promoted(rung, len(rung) - 1, k):
                # Non-dominated while k = 0: never pruned.
                assert k > 0 or any(_dominates(p, v) for p in rung)
                stopped = step
                break
        if stopped is None:
            assert t.state == TrialState.COMPLETE and t.last_step == 16, t.number
        else:
            assert t.state == TrialState.PRUNED and t.last_step == stopped, t.number


def _reloaded(url: str, name: str, trials: list[ferrotune.FrozenTrial]) -> None:
    """A new storage on the database reads the same vectors and values (compared as
    text, where NaN equals NaN)."""
    again = ferrotune.load_study(study_name=name, storage=RDBStorage(url)).trials
    assert repr([t.intermediate_values for t in again]) == repr(
        [t.intermediate_values for t in trials]
    )
    assert repr([t.values for t in again]) == repr([t.values for t in trials])
    assert all(len(v) == 2 for t in again for v in t.intermediate_values.values())


def test_successive_halving_optimize_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mo.db'}"
    dirs = ["minimize", "minimize"]
    study = ferrotune.create_study(
        storage=RDBStorage(url),
        study_name="sh",
        directions=dirs,
        sampler=RandomSampler(seed=3),
        pruner=SuccessiveHalvingPruner(min_resource=1, reduction_factor=2),
    )
    study.optimize(_zdt_curve(1.0), n_trials=40)
    trials = study.trials
    states = [t.state for t in trials]
    assert TrialState.PRUNED in states and TrialState.COMPLETE in states
    # One bracket; rungs at steps 1, 2, 4, 8, 16.
    _replay(trials, dirs, 2, lambda _: (0, [1, 2, 4, 8, 16]))
    _reloaded(url, "sh", trials)


def test_hyperband_optimize_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hb.db'}"
    dirs = ["minimize", "maximize"]
    study = ferrotune.create_study(
        storage=RDBStorage(url),
        study_name="hb",
        directions=dirs,
        sampler=RandomSampler(seed=5),
        pruner=HyperbandPruner(min_resource=1, max_resource=16, reduction_factor=2),
    )
    study.optimize(_zdt_curve(-1.0), n_trials=60)
    trials = study.trials
    assert sum(t.state == TrialState.PRUNED for t in trials) > 0
    # Five brackets (log2(16) + 1); bracket b has rungs at steps 2**(b + r) and a share
    # ceil(5 * 2**s / (s + 1)), s = 4 - b, of the CRC-32 of "hb_{number}" (Optuna's rule).
    budgets = [math.ceil(5 * 2**s / (s + 1)) for s in (4, 3, 2, 1, 0)]
    assert budgets == [16, 10, 7, 5, 5]

    def rungs_of(number: int) -> tuple[int, list[int]]:
        n = zlib.crc32(f"hb_{number}".encode()) % sum(budgets)
        b = 0
        while n >= budgets[b]:
            n -= budgets[b]
            b += 1
        return b, [2 ** (b + r) for r in range(5 - b)]

    assert len({rungs_of(t.number)[0] for t in trials}) > 1
    _replay(trials, dirs, 2, rungs_of)
    _reloaded(url, "hb", trials)


def test_in_memory_pickle_and_add_trial_keep_vectors() -> None:
    study = ferrotune.create_study(directions=["minimize", "maximize"])
    t = study.ask()
    t.report([1.0, 2.0], 0)
    t.report([0.5, math.nan], 3)
    study.tell(t, [0.5, 2.5])
    study.add_trial(
        create_trial(values=[1.0, 1.0], intermediate_values={2: [3.0, 4.0]}),
    )
    copy = pickle.loads(pickle.dumps(study))
    for s in (study, copy):
        iv = s.trials[0].intermediate_values
        assert iv[0] == [1.0, 2.0] and iv[3][0] == 0.5 and math.isnan(iv[3][1])
        assert s.trials[1].intermediate_values == {2: [3.0, 4.0]}
    # A single-objective study keeps floats.
    single = ferrotune.create_study()
    u = single.ask()
    u.report(1.5, 0)
    assert single.trials[0].intermediate_values == {0: 1.5}


def test_a_version_1_database_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    RDBStorage(url).dispose()
    with sqlite3.connect(path) as conn:  # as version 1 left it
        conn.execute("ALTER TABLE ft_trial_intermediate DROP COLUMN rest_json")
        conn.execute("UPDATE ft_version SET version = 1")
    conn.close()
    storage = RDBStorage(url)
    assert storage.schema_version() == 2
    study = ferrotune.create_study(storage=storage, directions=["minimize", "minimize"])
    t = study.ask()
    t.report([1.0, 2.0], 1)
    assert study.trials[0].intermediate_values == {1: [1.0, 2.0]}
    storage.dispose()


# ---------------------------------------------------------------------------- bad input


def test_bad_reports_are_clear_errors() -> None:
    study = ferrotune.create_study(directions=["minimize", "minimize"])
    t = study.ask()
    with pytest.raises(InvalidArgumentError, match="sequence of 2 floats"):
        t.report(1.0, 0)
    with pytest.raises(InvalidArgumentError, match="sequence of 2 floats"):
        t.report("ab", 0)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="3 value"):
        t.report([1.0, 2.0, 3.0], 0)
    with pytest.raises(InvalidArgumentError, match=r"value\[1\] 'x' is not a float"):
        t.report([1.0, "x"], 0)  # type: ignore[list-item]
    with pytest.raises(InvalidArgumentError, match="step"):
        t.report([1.0, 2.0], -1)
    assert study.trials[0].intermediate_values == {}
    single = ferrotune.create_study().ask()
    with pytest.raises(InvalidArgumentError, match="not a float"):
        single.report([1.0], 0)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="intermediate value"):
        create_trial(values=[1.0], intermediate_values={0: "x"})


@pytest.mark.parametrize("pruner", [MedianPruner(), ThresholdPruner(upper=1.0)])
def test_other_pruners_refuse_several_objectives(pruner: ferrotune.pruners.BasePruner) -> None:
    study = ferrotune.create_study(directions=["minimize", "minimize"], pruner=pruner)
    t = study.ask()
    t.report([1.0, 2.0], 0)
    with pytest.raises(NotImplementedError, match="SuccessiveHalvingPruner"):
        t.should_prune()


@pytest.mark.parametrize("value", [{1: 2.0, 3: 4.0}, {1.0, 2.0}])
def test_report_refuses_a_mapping_or_a_set(value: object) -> None:
    t = ferrotune.create_study(directions=["minimize", "maximize"]).ask()
    with pytest.raises(InvalidArgumentError, match="one per objective"):
        t.report(value, 1)  # type: ignore[arg-type]


def test_add_trial_checks_intermediate_values_against_the_objectives() -> None:
    """add_trial takes intermediate values as report does: one float per objective in a
    study with several, a float otherwise; a wrong shape adds nothing. A plain float in
    a study with several objectives (Optuna's only kind) is kept as it is."""
    from ferrotune.trial import create_trial

    mo = ferrotune.create_study(directions=["minimize", "maximize"])
    for bad in ({0: [1.0]}, {0: [1.0, "x"]}, {-1: [1.0, 2.0]}, {0: 0.5, 1: [0.1, 0.2]}):
        with pytest.raises(InvalidArgumentError, match="intermediate"):
            mo.add_trial(create_trial(values=[1.0, 2.0], intermediate_values=bad))
    assert mo.trials == []
    mo.add_trial(create_trial(values=[1.0, 2.0], intermediate_values={0: (0.5, 2.5)}))
    assert mo.trials[0].intermediate_values == {0: [0.5, 2.5]}
    mo.add_trial(create_trial(values=[1.0, 2.0], intermediate_values={0: 1.5, 1: 3}))
    assert mo.trials[1].intermediate_values == {0: 1.5, 1: 3.0}
    single = ferrotune.create_study()
    with pytest.raises(InvalidArgumentError, match="step 3"):
        single.add_trial(create_trial(value=1.0, intermediate_values={3: [1.0, 2.0]}))
    single.add_trial(create_trial(value=1.0, intermediate_values={3: 0.25}))
    assert single.trials[0].intermediate_values == {3: 0.25}
