"""Rung records of successive halving and Hyperband shared through the storage.

Four worker processes (two threads each) prune one study with SuccessiveHalvingPruner or
HyperbandPruner on SQLite and on PostgreSQL; the records read back from the database are
then checked against the ASHA rule computed here, independently of ferrotune: each
decision against the records that precede it in the serialized order, one record per
trial and rung, none missing, and a pruned trial reported no step past its rung. Nothing
here asserts on wall-clock time.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

import ferrotune
from ferrotune.pruners import HyperbandPruner, SuccessiveHalvingPruner
from ferrotune.storages import RDBStorage
from ferrotune.trial import FrozenTrial, TrialState

ROOT = Path(__file__).resolve().parents[2]
MAX_STEP = 27

# A worker: curves that depend on the sampled x only, a check after every report.
WORKER = textwrap.dedent(
    """
    import sys
    import ferrotune
    from ferrotune.pruners import HyperbandPruner, SuccessiveHalvingPruner

    url, name, kind, seed, n_trials = sys.argv[1:]
    if kind == "sh":
        pruner = SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)
    else:
        pruner = HyperbandPruner(min_resource=1, max_resource=27, reduction_factor=3)
    study = ferrotune.load_study(
        study_name=name,
        storage=url,
        sampler=ferrotune.samplers.RandomSampler(seed=int(seed)),
        pruner=pruner,
    )

    def objective(trial):
        x = trial.suggest_float("x", 0.0, 1.0)
        v = x
        for step in range(1, 28):
            v = x + 1.0 / step
            trial.report(v, step)
            if trial.should_prune():
                raise ferrotune.TrialPruned()
        return v

    study.optimize(objective, n_trials=int(n_trials), n_jobs=2)
    """
)


def _rungs_of(kind: str, name: str, number: int) -> tuple[int, int, list[int]]:
    """(bracket, eta, steps of the bracket's rungs) of trial ``number``, computed here:
    SH with r=1, eta=2; Hyperband with r=1, R=27, eta=3 (4 brackets with budgets 27, 12,
    6, 4 and CRC-32 of "{study}_{number}" as Optuna assigns them)."""
    if kind == "sh":
        return 0, 2, [1, 2, 4, 8, 16]
    n = zlib.crc32(f"{name}_{number}".encode()) % 49
    for b, budget in enumerate([27, 12, 6, 4]):
        if n < budget:
            return b, 3, [3**k for k in range(b, 4)]
        n -= budget
    raise AssertionError("unreachable")


def _check_records(trials: list[FrozenTrial], kind: str, name: str, n_trials: int) -> int:
    """Checks the rung records of ``trials``; returns how many there are."""
    assert [t.number for t in trials] == list(range(n_trials))
    by_rung: dict[tuple[int, int], list[tuple[int, float, bool, int]]] = defaultdict(list)
    orders = []
    n_records = 0
    for t in trials:
        assert t.state in (TrialState.COMPLETE, TrialState.PRUNED), t
        bracket, eta, steps = _rungs_of(kind, name, t.number)
        attrs = t.system_attrs
        # A journal keeps ferrotune's form under its own key and Optuna's (the value
        # alone) under Optuna's; the other storages keep ferrotune's under Optuna's key.
        recs = {
            int(k.rsplit("_", 1)[1]): v
            for k, v in attrs.items()
            if k.startswith("ferrotune:completed_rung_")
        }
        for k, v in attrs.items():
            if k.startswith("completed_rung_"):
                rung = int(k.rsplit("_", 1)[1])
                if rung in recs:
                    assert v == recs[rung]["values"][0], (t.number, k, v)
                else:
                    recs[rung] = v
        last = t.last_step
        assert last is not None
        # Every rung the trial reached has a record (none lost), no other rung has one.
        reached = [k for k, s in enumerate(steps) if s <= last]
        assert sorted(recs) == reached, (t.number, recs, last)
        decisions = [recs[k]["promoted"] for k in reached]
        if t.state == TrialState.PRUNED:
            # Pruned at its last rung, promoted before, and no step reported past it.
            assert decisions and not decisions[-1] and all(decisions[:-1]), t.number
            assert last == steps[reached[-1]], (t.number, last)
        else:
            assert all(decisions) and last == MAX_STEP, t.number
        for k in reached:
            r = recs[k]
            # The value recorded is the one reported at the rung's step.
            assert r["values"] == [t.intermediate_values[steps[k]]]
            by_rung[(bracket, k)].append((r["order"], r["values"][0], r["promoted"], t.number))
            orders.append(r["order"])
            n_records += 1
    assert len(set(orders)) == len(orders), "records share a place in the order"
    # ASHA (minimising, bootstrap 0): in the order of the records, a value goes on when it
    # is among the best max(n // eta, 1) of the n values recorded at its rung so far.
    for (bracket, _), recs_at in by_rung.items():
        eta = 2 if kind == "sh" else 3
        seen: list[float] = []
        for _, value, promoted, number in sorted(recs_at):
            seen.append(value)
            seen.sort()
            keep = seen[max(len(seen) // eta, 1) - 1]
            assert promoted == (value <= keep), (bracket, number, value, seen)
    return n_records


def _run_four_workers(url: str, kind: str, per_worker: int) -> list[FrozenTrial]:
    name = f"rungs-{kind}"
    st = RDBStorage(url)
    ferrotune.create_study(storage=st, study_name=name)
    st.dispose()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, name, kind, str(seed), str(per_worker)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for seed in range(4)
    ]
    for p in procs:
        text, _ = p.communicate(timeout=600)
        assert p.returncode == 0, text
    view = RDBStorage(url)
    try:
        return ferrotune.load_study(study_name=name, storage=view).trials
    finally:
        view.dispose()


@pytest.mark.parametrize("kind", ["sh", "hyperband"])
def test_four_processes_agree_on_every_rung(db_url: str, kind: str) -> None:
    per_worker = 30
    trials = _run_four_workers(db_url, kind, per_worker)
    n = _check_records(trials, kind, f"rungs-{kind}", 4 * per_worker)
    pruned = sum(t.state == TrialState.PRUNED for t in trials)
    # The rule really pruned, and really promoted past the first rung.
    assert 0 < pruned < len(trials)
    assert n > len(trials)


def test_the_checker_rejects_a_wrong_decision() -> None:
    """The independent check above fails on a record that breaks the rule."""
    study = ferrotune.create_study(
        study_name="rungs-sh", pruner=SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)
    )
    for x in (0.5, 0.2, 0.9, 0.1):
        _run_curve(study, x)
    trials = study.trials
    _check_records(trials, "sh", "rungs-sh", 4)
    flipped = trials[2]
    flipped.system_attrs["completed_rung_0"] = {
        **flipped.system_attrs["completed_rung_0"],
        "promoted": True,
    }
    with pytest.raises(AssertionError):
        _check_records(trials, "sh", "rungs-sh", 4)


def _run_curve(study: ferrotune.Study, x: float) -> tuple[int, bool]:
    """The workers' objective for one x, asked through ask/tell: (last step, pruned)."""
    t = study.ask()
    v = x
    for step in range(1, MAX_STEP + 1):
        v = x + 1.0 / step
        t.report(v, step)
        if t.should_prune():
            study.tell(t, state=TrialState.PRUNED)
            return step, True
    study.tell(t, v)
    return MAX_STEP, False


def _sh() -> SuccessiveHalvingPruner:
    return SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)


def test_a_copy_into_memory_ranks_against_the_copied_records(tmp_path: Path) -> None:
    # copy_study into an InMemoryStorage stored the records as attributes only: the
    # copy's pruner ranked without them (0 records in its core against 19).
    from ferrotune.storages import InMemoryStorage

    url = f"sqlite:///{tmp_path / 'a.db'}"
    source = ferrotune.create_study(study_name="s", storage=url, pruner=_sh())
    assert _run_curve(source, 0.1) == (MAX_STEP, False)
    memory = InMemoryStorage()
    ferrotune.copy_study(from_study_name="s", from_storage=url, to_storage=memory)
    copy = ferrotune.load_study(study_name="s", storage=memory, pruner=_sh())
    core = memory.get_core(copy._study_id)
    assert sorted(r[:4] for r in core.rung_records()) == sorted(
        r[:4] for r in source._storage.get_core(source._study_id).rung_records()
    )
    # 0.5 at rung 0 beside 0.1's copied record: only the best of the two goes on.
    assert _run_curve(copy, 0.5) == (1, True)


def test_pickled_study_keeps_its_rung_records() -> None:
    study = ferrotune.create_study(pruner=_sh())
    assert _run_curve(study, 0.1) == (MAX_STEP, False)
    copy = pickle.loads(pickle.dumps(study))
    # 0.5 at rung 0 beside 0.1's record: 2 values, only the best goes on.
    assert _run_curve(copy, 0.5) == (1, True)
    assert _run_curve(study, 0.5) == (1, True)
    # Without the record, a fresh study promotes it: the records are what decided.
    assert _run_curve(ferrotune.create_study(pruner=_sh()), 0.5) == (MAX_STEP, False)
    assert copy.trials[1].system_attrs["completed_rung_0"]["promoted"] is False


@pytest.mark.parametrize("kind", ["sh", "hyperband"])
def test_reopened_database_study_keeps_its_rung_records(db_url: str, kind: str) -> None:
    def pruner() -> Any:
        if kind == "sh":
            return _sh()
        return HyperbandPruner(min_resource=1, max_resource=27, reduction_factor=3)

    st = RDBStorage(db_url)
    study = ferrotune.create_study(storage=st, study_name="resume", pruner=pruner())
    for x in (0.3, 0.1, 0.6, 0.05, 0.8, 0.2):
        _run_curve(study, x)
    st.dispose()
    st2 = RDBStorage(db_url)
    study = ferrotune.load_study(study_name="resume", storage=st2, pruner=pruner())
    for x in (0.7, 0.4, 0.15, 0.9, 0.01):
        _run_curve(study, x)
    # The decisions of the resumed study follow the rule over all records, old and new.
    _check_records(study.trials, kind, "resume", 11)
    st2.dispose()


def test_asking_again_at_a_rung_gives_the_same_decision(make_storage: Any) -> None:
    study = ferrotune.create_study(storage=make_storage(), pruner=_sh())
    _run_curve(study, 0.1)
    t = study.ask()
    t.report(5.0, 1)  # worse than 0.1's 1.1 at rung 0 (step 1)
    assert t.should_prune() and t.should_prune()
    t.report(0.0, 2)  # a pruned trial stays pruned, even with a better value later
    assert t.should_prune()
    records = {k: v for k, v in study.get_trial(t.number).system_attrs.items() if "rung" in k}
    if "ferrotune:completed_rung_0" in records:  # a journal: Optuna's form under its key
        assert records.pop("completed_rung_0") == 5.0
        records = {"completed_rung_0": records.pop("ferrotune:completed_rung_0"), **records}
    assert list(records) == ["completed_rung_0"]
    assert records["completed_rung_0"]["promoted"] is False
    assert records["completed_rung_0"]["values"] == [5.0]


@pytest.mark.parametrize("kind", ["sh", "hyperband"])
def test_threads_in_memory_follow_the_rule(kind: str) -> None:
    """``optimize(n_jobs=4)`` in memory: the study's lock orders the decisions."""
    name = f"threads-{kind}"
    pruner = _sh() if kind == "sh" else HyperbandPruner(1, 27, 3)
    study = ferrotune.create_study(
        study_name=name, sampler=ferrotune.samplers.RandomSampler(seed=3), pruner=pruner
    )

    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        v = x
        for step in range(1, MAX_STEP + 1):
            v = x + 1.0 / step
            trial.report(v, step)
            if trial.should_prune():
                raise ferrotune.TrialPruned()
        return v

    study.optimize(objective, n_trials=80, n_jobs=4)
    _check_records(study.trials, kind, name, 80)


def test_two_workers_share_multi_objective_rung_records(db_url: str) -> None:
    """A study with two objectives on a database: the vectors recorded at a rung by one
    worker (its own storage object) decide the other worker's trial (MO-ASHA's rule)."""
    sh = SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)
    st_a, st_b = RDBStorage(db_url), RDBStorage(db_url)
    a = ferrotune.create_study(
        storage=st_a, study_name="mo", directions=["minimize", "maximize"], pruner=sh
    )
    for vector in ([1.0, 1.0], [2.0, 2.0]):  # both non-dominated at rung 0 (step 1)
        t = a.ask()
        t.report(vector, 1)
        assert not t.should_prune()
        a.tell(t, vector)
    b = ferrotune.load_study(study_name="mo", storage=st_b, pruner=sh)
    # (3, 0) is dominated by both: n = 3, k = 1, two vectors ahead of it: pruned. Alone
    # at the rung (had worker b not seen a's records) it would have gone on.
    dominated = b.ask()
    dominated.report([3.0, 0.0], 1)
    assert dominated.should_prune()
    # (0.5, 5) dominates every vector there: first in the order, promoted.
    best = b.ask()
    best.report([0.5, 5.0], 1)
    assert not best.should_prune()
    records = [
        a.get_trial(n).system_attrs["completed_rung_0"] for n in range(4)
    ]  # read back through worker a
    assert [r["values"] for r in records] == [[1.0, 1.0], [2.0, 2.0], [3.0, 0.0], [0.5, 5.0]]
    assert [r["promoted"] for r in records] == [True, True, False, True]
    assert len({r["order"] for r in records}) == 4
    st_a.dispose()
    st_b.dispose()


def test_records_of_many_rungs_in_one_check_reach_other_workers_in_rung_order(
    db_url: str,
) -> None:
    """One check can cross many rungs (a first report at a late step): its records share
    one place in the order, and another worker must take them in rung by rung (their
    names sort as text: completed_rung_10 before completed_rung_2)."""
    sh = SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)
    st_a, st_b = RDBStorage(db_url), RDBStorage(db_url)
    a = ferrotune.create_study(storage=st_a, study_name="many", pruner=sh)
    t = a.ask()
    t.report(1.0, 4096)  # rungs 0..12 in one check
    assert not t.should_prune()
    a.tell(t, 1.0)
    b = ferrotune.load_study(study_name="many", storage=st_b, pruner=sh)
    decisions = []
    for study in (a, b):
        u = study.ask()
        steps = []
        for step, value in ((1, 0.5), (2, 0.5), (4, 5.0)):
            u.report(value, step)
            steps.append(u.should_prune())
            if steps[-1]:
                break
        study.tell(u, state=TrialState.PRUNED) if steps[-1] else study.tell(u, 0.5)
        decisions.append(steps)
    # At step 4 (rung 2) the rung holds 1.0 (trial 0) and, for b, also a's 5.0: 5.0 is
    # not the best, so both workers prune there.
    assert decisions == [[False, False, True], [False, False, True]]
    st_a.dispose()
    st_b.dispose()


def test_should_prune_on_a_finished_trial_is_refused(make_storage: Any) -> None:
    from ferrotune.exceptions import UpdateFinishedTrialError

    study = ferrotune.create_study(storage=make_storage(), pruner=_sh())
    _run_curve(study, 0.1)
    t = study.ask()
    t.report(5.0, 1)
    study.tell(t, 5.0)
    with pytest.raises(UpdateFinishedTrialError):
        t.should_prune()
    # Nothing was recorded on the COMPLETE trial.
    assert not any("rung" in k for k in study.get_trial(t.number).system_attrs)
