"""The pruning example (examples/pruning_digits.py) on the tabular digits task."""

from __future__ import annotations

import importlib.util
import itertools
import pathlib
import subprocess
import sys
from types import ModuleType
from typing import Any

import pytest

import ferrotune
from ferrotune.benchmarks import DIGITS_MAX_EPOCHS, digits_mlp_tabular, digits_table_grid

REPO = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = REPO / "examples" / "pruning_digits.py"
TRIALS = 30


def _load_script() -> ModuleType:
    if not SCRIPT.exists():
        pytest.skip("examples/pruning_digits.py is not in this checkout")
    spec = importlib.util.spec_from_file_location("pruning_digits", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return _load_script()


@pytest.fixture(scope="module")
def rows(script: ModuleType) -> list[Any]:
    return list(script.main(["--tabular", "--trials", str(TRIALS), "--seed", "0"]))


def _full_budget_errors() -> set[float]:
    problem = digits_mlp_tabular()
    grid = digits_table_grid()
    names = list(grid)
    out = set()
    for values in itertools.product(*grid.values()):
        params = {
            n: int(v) if problem.params[n].kind == "int" else v
            for n, v in zip(names, values, strict=True)
        }
        out.add(problem.evaluate(params))
    return out


def test_no_pruning_trains_every_trial_fully(rows: list[Any]) -> None:
    base = rows[0]
    assert base.pruner == "NopPruner"
    assert (base.trials, base.pruned, base.epochs_saved) == (TRIALS, 0, 0)
    assert base.epochs == TRIALS * DIGITS_MAX_EPOCHS


def test_pruners_prune_and_save_epochs(rows: list[Any]) -> None:
    assert [r.pruner for r in rows] == ["NopPruner", "MedianPruner", "HyperbandPruner"]
    baseline = rows[0].epochs
    for r in rows[1:]:
        assert r.trials == TRIALS
        assert 0 < r.pruned < TRIALS, r
        assert r.epochs < baseline, r
        assert r.epochs_saved == baseline - r.epochs
        # A finished trial trains all 27 epochs, a pruned one at least one.
        finished = TRIALS - r.pruned
        assert finished * DIGITS_MAX_EPOCHS + r.pruned <= r.epochs
        assert r.epochs <= finished * DIGITS_MAX_EPOCHS + r.pruned * (DIGITS_MAX_EPOCHS - 1)
    # MedianPruner(n_warmup_steps=2) never prunes at a step < 2 (Optuna's rule); steps are
    # epochs numbered from 1, so a pruned trial trained at least 2 epochs.
    median = rows[1]
    assert median.epochs >= (TRIALS - median.pruned) * DIGITS_MAX_EPOCHS + 2 * median.pruned


def test_best_error_is_a_full_budget_value_of_the_table(rows: list[Any]) -> None:
    finals = _full_budget_errors()
    optimum = digits_mlp_tabular().optimum
    assert optimum is not None
    for r in rows:
        assert r.best_error in finals, r
        assert optimum <= r.best_error <= max(finals)


def test_same_seed_reproduces_the_table(script: ModuleType, rows: list[Any]) -> None:
    verbosity = ferrotune.logging.get_verbosity()
    again = script.main(["--tabular", "--trials", str(TRIALS), "--seed", "0"])
    assert list(again) == rows
    assert ferrotune.logging.get_verbosity() == verbosity  # quiet during the runs only


@pytest.mark.parametrize("bad", [["--trials", "0"], ["--seed", "-1"]])
def test_bad_arguments_are_a_usage_error(script: ModuleType, bad: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        script.main(["--tabular", *bad])
    assert info.value.code == 2


def test_live_task_without_sklearn_says_so(
    script: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn` fail
    with pytest.raises(SystemExit) as info:
        script.main(["--trials", "1"])
    message = str(info.value.code)
    assert "scikit-learn" in message and "--tabular" in message


def test_example_script_runs() -> None:
    if not SCRIPT.exists():
        pytest.skip("examples/pruning_digits.py is not in this checkout")
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--tabular", "--trials", "12"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert out.returncode == 0, out.stderr
    for name in ("NopPruner", "MedianPruner", "HyperbandPruner", "best error"):
        assert name in out.stdout
