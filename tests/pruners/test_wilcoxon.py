"""WilcoxonPruner: a hand-computed decision, the same decisions as Optuna's pruner on
random sequences, the guards, arguments and pickling."""

from __future__ import annotations

import json
import math
import pickle
import random
from pathlib import Path
from typing import Any

import pytest

import ferrotune
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.pruners import WilcoxonPruner
from ferrotune.trial import TrialState

from ._helpers import decisions, study_with


def run(lib: Any, study: Any, reports: list[tuple[int, float]], tell_mean: bool) -> Any:
    """A trial reporting (step, value) pairs, checked after each report; when pruned it
    returns its mean so far (``tell_mean``) or is told PRUNED. (reports made, pruned)."""
    t = study.ask()
    seen = []
    for step, v in reports:
        t.report(v, step)
        seen.append(v)
        if t.should_prune():
            if tell_mean:
                study.tell(t, sum(seen) / len(seen))
            else:
                study.tell(t, state=lib.trial.TrialState.PRUNED)
            return len(seen), True
    study.tell(t, sum(seen) / len(seen))
    return len(seen), False


def test_hand_computed_decision() -> None:
    # Best trial: 0 at steps 0..4. A trial 1 higher everywhere: d = (1, 1, 1, ...), all
    # tied, so the p-value is the exhaustive one: P(all signs +) = 2^-n. Below 0.1 from
    # n = 4 (1/16); n = 3 gives 1/8.
    study = study_with(WilcoxonPruner(), [dict.fromkeys(range(5), 0.0)])
    assert decisions(study, [(s, 1.0) for s in range(5)]) == [False, False, False, True, True]
    # The same trial is kept when it is better (minimising) or when maximising.
    study = study_with(WilcoxonPruner(), [dict.fromkeys(range(5), 0.0)], direction="maximize")
    assert decisions(study, [(s, 1.0) for s in range(5)]) == [False] * 5


def test_guards() -> None:
    best = [dict.fromkeys(range(6), 0.0)]
    # n_startup_steps counts paired steps only: step 10 is not in the best trial.
    study = study_with(WilcoxonPruner(n_startup_steps=5), best)
    got = decisions(study, [(10, 9.0), (0, 1.0), (1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0)])
    assert got == [False, False, False, False, False, True]
    # A NaN in the running trial: never pruned.
    study = study_with(WilcoxonPruner(), best)
    assert decisions(study, [(0, math.nan)] + [(s, 5.0) for s in range(1, 6)]) == [False] * 6
    # No COMPLETE trial (only PRUNED ones), or a best trial without reports: never pruned.
    study = study_with(WilcoxonPruner(), best, state=TrialState.PRUNED)
    assert decisions(study, [(s, 5.0) for s in range(6)]) == [False] * 6
    study = study_with(WilcoxonPruner(), [{}])
    assert decisions(study, [(s, 5.0) for s in range(6)]) == [False] * 6
    # p_threshold 0 never prunes; 1 prunes as soon as two steps pair and the mean is worse.
    study = study_with(WilcoxonPruner(p_threshold=0.0), best)
    assert decisions(study, [(s, 5.0) for s in range(6)]) == [False] * 6
    study = study_with(WilcoxonPruner(p_threshold=1.0, n_startup_steps=0), best)
    assert decisions(study, [(0, 5.0), (1, 5.0)]) == [False, True]


def test_mean_safety_keeps_a_trial() -> None:
    # d = (-20, 1 x 9): nine small positive ranks against one large negative one give
    # p = 47/1024 < 0.1 at the end (checked in the Rust unit tests), so the test alone
    # would prune; but the trial's mean (0.9) is better than the best trial's (2.0).
    best = {**dict.fromkeys(range(9), 0.0), 9: 20.0}
    study = study_with(WilcoxonPruner(), [best])
    reports = [(9, 0.0)] + [(s, 1.0) for s in range(9)]
    assert decisions(study, reports) == [False] * 10


def sequences(seed: int) -> tuple[str, dict[str, Any], list[tuple[list[tuple[int, float]], bool]]]:
    """A random study: direction, pruner arguments and trials (reports, tell_mean).
    Values come rounded or not (ties and zeros, or none) and up to 70 instances (exact,
    exhaustive and normal-approximation p-values)."""
    rng = random.Random(seed)
    direction = rng.choice(["minimize", "maximize"])
    kwargs = {"p_threshold": rng.choice([0.05, 0.1, 0.3]), "n_startup_steps": rng.randint(0, 6)}
    n = rng.choice([4, 8, 13, 20, 45, 70])
    digits = rng.choice([0, 1, 6])
    hardness = [rng.gauss(0, 1) for _ in range(n)]
    trials = []
    for _ in range(8):
        level, noise = rng.uniform(-1, 1), rng.uniform(0.1, 2)
        steps = rng.sample(range(n), rng.randint(1, n))
        reports = [(s, round(hardness[s] + level + rng.gauss(0, noise), digits)) for s in steps]
        trials.append((reports, rng.random() < 0.5))
    return direction, kwargs, trials


def optuna_decisions(seed: int) -> list[Any]:
    """Optuna's WilcoxonPruner on the study of ``sequences(seed)``: per trial (reports
    made, pruned)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    direction, kwargs, trials = sequences(seed)
    study = optuna.create_study(direction=direction, pruner=optuna.pruners.WilcoxonPruner(**kwargs))
    return [run(optuna, study, reports, tell_mean) for reports, tell_mean in trials]


def ferrotune_decisions(seed: int) -> list[Any]:
    direction, kwargs, trials = sequences(seed)
    study = ferrotune.create_study(direction=direction, pruner=WilcoxonPruner(**kwargs))
    return [run(ferrotune, study, reports, tell_mean) for reports, tell_mean in trials]


def n_instances(seed: int) -> int:
    return 1 + max(step for reports, _ in sequences(seed)[2] for step, _ in reports)


SEEDS = 40
REFERENCE = Path(__file__).with_name("wilcoxon_optuna_decisions.json")


@pytest.mark.parametrize("seed", range(SEEDS))
def test_same_decisions_as_optuna(seed: int) -> None:
    # Optuna's decisions were recorded once (`python -m tests.pruners.test_wilcoxon`
    # writes the file; the versions are in it): SciPy enumerates up to 2^13 sign
    # patterns per call on tied values, minutes for the 40 studies. A few cheap studies
    # are also run live against the installed Optuna below.
    reference = json.loads(REFERENCE.read_text())
    want = [tuple(d) for d in reference["decisions"][str(seed)]]
    assert ferrotune_decisions(seed) == want


def test_the_studies_cover_every_kind_of_p_value() -> None:
    # SciPy's p-values: exact up to 50 instances (exhaustive over the sign patterns
    # when values tie or are zero), the normal approximation above.
    assert {n_instances(s) > 50 for s in range(SEEDS)} == {True, False}
    assert {sequences(s)[0] for s in range(SEEDS)} == {"minimize", "maximize"}


@pytest.mark.parametrize("seed", [s for s in range(SEEDS) if n_instances(s) <= 8][:4])
def test_same_decisions_as_the_installed_optuna(seed: int) -> None:
    pytest.importorskip("optuna")
    pytest.importorskip("scipy")
    assert ferrotune_decisions(seed) == optuna_decisions(seed)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"p_threshold": 1.5}, "p_threshold"),
        ({"p_threshold": -0.1}, "p_threshold"),
        ({"p_threshold": math.nan}, "p_threshold"),
        ({"p_threshold": "low"}, "p_threshold"),
        ({"n_startup_steps": -1}, "n_startup_steps"),
        ({"n_startup_steps": 2.5}, "n_startup_steps"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidArgumentError, match=name):
        WilcoxonPruner(**kwargs)


def test_pickle_and_repr() -> None:
    pruner = WilcoxonPruner(p_threshold=0.2, n_startup_steps=3)
    copy = pickle.loads(pickle.dumps(pruner))
    assert repr(copy) == repr(pruner) == "WilcoxonPruner(p_threshold=0.2, n_startup_steps=3)"
    study = study_with(copy, [dict.fromkeys(range(5), 0.0)])
    assert decisions(study, [(s, 1.0) for s in range(5)])[-1] is True
    with pytest.raises(TypeError):
        WilcoxonPruner(0.1)  # type: ignore[misc]


if __name__ == "__main__":
    import optuna
    import scipy

    out = {
        "optuna": optuna.__version__,
        "scipy": scipy.__version__,
        "decisions": {str(seed): optuna_decisions(seed) for seed in range(SEEDS)},
    }
    REFERENCE.write_text(json.dumps(out, indent=None) + "\n")
