"""The ``ferrotune`` command's study commands, run in-process through ``main(argv)`` on
SQLite, their output parsed back and checked against the study."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ferrotune
from ferrotune.cli import main

yaml = pytest.importorskip("yaml")
pytest.importorskip("sqlalchemy")

SPACE = json.dumps(
    {
        "x": {"name": "FloatDistribution", "attributes": {"low": -5.0, "high": 5.0}},
        "k": {"name": "CategoricalDistribution", "attributes": {"choices": ["a", "b"]}},
    }
)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def filled(url: str) -> ferrotune.Study:
    """A minimised study of 12 trials (one pruned, one failed) and a 2-objective one."""
    study = ferrotune.create_study(
        study_name="quad", storage=url, sampler=ferrotune.samplers.RandomSampler(seed=1)
    )
    for i in range(12):
        t = study.ask()
        x = t.suggest_float("x", -5, 5)
        t.suggest_int("n", 1, 4)
        t.set_user_attr("tag", f"t{i}")
        if i == 3:
            study.tell(t, state=ferrotune.TrialState.PRUNED)
        elif i == 5:
            study.tell(t, state=ferrotune.TrialState.FAIL)
        else:
            study.tell(t, (x - 1.0) ** 2)
    mo = ferrotune.create_study(study_name="mo", storage=url, directions=["minimize", "maximize"])
    mo.optimize(lambda t: (t.suggest_float("a", 0, 1), t.suggest_float("b", 0, 1)), n_trials=8)
    return study


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``main(argv)``'s status, stdout and stderr (what came before is dropped)."""
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.strip() == f"ferrotune {ferrotune.__version__}"


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_studies(
    capsys: pytest.CaptureFixture[str], url: str, filled: ferrotune.Study, fmt: str
) -> None:
    code, out, _ = run(capsys, "studies", "--storage", url, "-f", fmt)
    assert code == 0
    rows = json.loads(out) if fmt == "json" else yaml.safe_load(out)
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == {"quad", "mo"}
    assert by_name["quad"]["n_trials"] == 12
    assert by_name["quad"]["direction"] == ["MINIMIZE"]
    assert by_name["mo"]["direction"] == ["MINIMIZE", "MAXIMIZE"]


def test_studies_table_and_names(
    capsys: pytest.CaptureFixture[str], url: str, filled: ferrotune.Study
) -> None:
    code, out, _ = run(capsys, "studies", "--storage", url)
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith("+-") and lines[-1].startswith("+-")
    assert [c.strip() for c in lines[1].strip("|").split("|")] == [
        "name",
        "direction",
        "n_trials",
        "datetime_start",
    ]
    assert len(lines) == 3 + 2 + 1  # rules, header, two studies
    code, out, _ = run(capsys, "study-names", "--storage", url)
    assert out.split() == ["quad", "mo"]


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_trials(
    capsys: pytest.CaptureFixture[str], url: str, filled: ferrotune.Study, fmt: str
) -> None:
    code, out, _ = run(capsys, "trials", "--storage", url, "--study-name", "quad", "-f", fmt)
    assert code == 0
    rows = json.loads(out) if fmt == "json" else yaml.safe_load(out)
    trials = filled.trials
    assert [r["number"] for r in rows] == [t.number for t in trials]
    for r, t in zip(rows, trials, strict=True):
        assert r["state"] == t.state.name
        assert r["value"] == t.value
        assert r["params"] == t.params
        assert r["user_attrs"] == {"tag": f"t{t.number}"}


def test_trials_flatten_and_table(
    capsys: pytest.CaptureFixture[str], url: str, filled: ferrotune.Study
) -> None:
    code, out, _ = run(
        capsys, "trials", "--storage", url, "--study-name", "mo", "-f", "json", "--flatten"
    )
    rows = json.loads(out)
    assert code == 0 and len(rows) == 8
    mo = ferrotune.load_study(study_name="mo", storage=url)
    for r, t in zip(rows, mo.trials, strict=True):
        assert [r["values_0"], r["values_1"]] == t.values
        assert r["params_a"] == t.params["a"]
    code, out, _ = run(capsys, "trials", "--storage", url, "--study-name", "quad")
    body = [line for line in out.splitlines() if line.startswith("|")]
    assert len(body) == 1 + 12
    assert sum("PRUNED" in line for line in body) == 1


def test_best_trial(capsys: pytest.CaptureFixture[str], url: str, filled: ferrotune.Study) -> None:
    code, out, _ = run(capsys, "best-trial", "--storage", url, "--study-name", "quad", "-f", "json")
    assert code == 0
    record = json.loads(out)
    assert record["number"] == filled.best_trial.number
    assert record["value"] == filled.best_value
    assert record["params"] == filled.best_params
    code, out, _ = run(capsys, "best-trial", "--storage", url, "--study-name", "quad", "-f", "yaml")
    assert yaml.safe_load(out)["value"] == filled.best_value


def test_best_trials(capsys: pytest.CaptureFixture[str], url: str, filled: ferrotune.Study) -> None:
    mo = ferrotune.load_study(study_name="mo", storage=url)
    code, out, _ = run(capsys, "best-trials", "--storage", url, "--study-name", "mo", "-f", "yaml")
    assert code == 0
    rows = yaml.safe_load(out)
    assert sorted(r["number"] for r in rows) == sorted(t.number for t in mo.best_trials)
    assert all(r["values"] == mo.trials[r["number"]].values for r in rows)


def test_create_ask_tell_delete(capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, out, _ = run(
        capsys, "create-study", "--storage", url, "--study-name", "s", "--direction", "maximize"
    )
    assert (code, out.strip()) == (0, "s")
    # An existing name fails unless --skip-if-exists.
    code, _, err = run(capsys, "create-study", "--storage", url, "--study-name", "s")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert (
        run(capsys, "create-study", "--storage", url, "--study-name", "s", "--skip-if-exists")[0]
        == 0
    )
    told = []
    for i in range(3):
        code, out, _ = run(
            capsys,
            "ask",
            "--storage",
            url,
            "--study-name",
            "s",
            "--search-space",
            SPACE,
            "--sampler",
            "RandomSampler",
            "--sampler-kwargs",
            '{"seed": 3}',
        )
        asked = json.loads(out)
        assert code == 0 and asked["number"] == i
        assert -5 <= asked["params"]["x"] <= 5 and asked["params"]["k"] in ("a", "b")
        assert (
            run(
                capsys,
                "tell",
                "--storage",
                url,
                "--study-name",
                "s",
                "--trial-number",
                str(i),
                "--values",
                str(float(i)),
            )[0]
            == 0
        )
        told.append(asked)
    study = ferrotune.load_study(study_name="s", storage=url)
    assert [t.params for t in study.trials] == [a["params"] for a in told]
    assert study.best_value == 2.0  # maximised
    # tell of a finished trial: an error, or nothing with --skip-if-finished.
    args = ["tell", "--storage", url, "--study-name", "s", "--trial-number", "0", "--values", "9"]
    assert run(capsys, *args)[0] == 1
    assert run(capsys, *args, "--skip-if-finished")[0] == 0
    assert ferrotune.load_study(study_name="s", storage=url).trials[0].value == 0.0
    assert run(capsys, "delete-study", "--storage", url, "--study-name", "s")[0] == 0
    assert ferrotune.get_all_study_names(url) == []


def test_create_multi_objective_and_tell_state(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, out, _ = run(
        capsys, "create-study", "--storage", url, "--directions", "minimize", "maximize"
    )
    name = out.strip()
    assert code == 0 and ferrotune.load_study(study_name=name, storage=url).directions == [
        ferrotune.StudyDirection.MINIMIZE,
        ferrotune.StudyDirection.MAXIMIZE,
    ]
    code, out, _ = run(capsys, "ask", "--storage", url, "-f", "yaml")
    assert yaml.safe_load(out) == {"number": 0, "params": {}}
    assert run(capsys, "tell", "--storage", url, "--trial-number", "0", "--state", "pruned")[0] == 0
    assert ferrotune.load_study(study_name=name, storage=url).trials[0].state.name == "PRUNED"


def test_export(
    capsys: pytest.CaptureFixture[str], url: str, filled: ferrotune.Study, tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "export", "--storage", url, "--study-name", "quad")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 12
    for r, t in zip(rows, filled.trials, strict=True):
        assert int(r["number"]) == t.number and r["state"] == t.state.name
        assert (float(r["value"]) if r["value"] else None) == t.value
        assert float(r["params_x"]) == t.params["x"]
    target = tmp_path / "quad.json"
    code, _, err = run(
        capsys, "export", "--storage", url, "--study-name", "quad", "-f", "json", "-o", str(target)
    )
    assert code == 0 and "12 trial(s)" in err
    document = json.loads(target.read_text())
    assert document["study_name"] == "quad" and document["directions"] == ["MINIMIZE"]
    assert [t["value"] for t in document["trials"]] == [t.value for t in filled.trials]
    assert document["trials"][0]["distributions"]["x"]["name"] == "FloatDistribution"


def test_journal_storage(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = str(tmp_path / "journal.log")
    assert run(capsys, "create-study", "--storage", path, "--study-name", "j")[0] == 0
    run(capsys, "ask", "--storage", path, "--search-space", SPACE)
    run(capsys, "tell", "--storage", path, "--trial-number", "0", "--values", "1.5")
    code, out, _ = run(capsys, "best-trial", "--storage", path, "-f", "json")
    assert code == 0 and json.loads(out)["value"] == 1.5


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["trials", "--study-name", "nope"], "no study named 'nope'"),
        (["trials"], "give --study-name"),
        (["best-trial", "--study-name", "mo"], "several objectives"),
        (
            ["ask", "--study-name", "quad", "--search-space", "{oops"],
            "--search-space is not valid JSON",
        ),
        (
            ["ask", "--study-name", "quad", "--search-space", '{"x": {"name": "Nope"}}'],
            "unknown distribution",
        ),
        (["ask", "--study-name", "quad", "--sampler", "os"], "not a sampler"),
        (
            [
                "ask",
                "--study-name",
                "quad",
                "--sampler",
                "RandomSampler",
                "--sampler-kwargs",
                '{"bad": 1}',
            ],
            "--sampler-kwargs",
        ),
        (["tell", "--study-name", "quad", "--trial-number", "99", "--values", "1"], "99"),
        (["delete-study", "--study-name", "nope"], "no study named 'nope'"),
    ],
)
def test_user_errors(
    capsys: pytest.CaptureFixture[str],
    url: str,
    filled: ferrotune.Study,
    argv: list[str],
    fragment: str,
) -> None:
    code, out, err = run(capsys, *argv[:1], "--storage", url, *argv[1:])
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"ferrotune {argv[0]}: error: ")
    assert fragment in lines[0]


@pytest.mark.parametrize(
    ("argv", "code", "fragment"),
    [
        (["studies"], 1, "no storage"),
        (["studies", "--storage", "mysql+nope://x"], 1, "use sqlite:///"),
        (["studies", "--storage", "sqlite:////no/such/dir/x.db"], 1, "no such file"),
        (["studies", "--storage", "/no/such/journal.log"], 1, "no such file"),
        (["studies", "--storage", "sqlite:///x.db", "-f", "xml"], 2, "invalid choice"),
        (["tell", "--storage", "sqlite:///x.db", "--trial-number", "one"], 2, "invalid int"),
        (["nosuchcommand"], 2, "invalid choice"),
    ],
)
def test_usage_errors(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    code: int,
    fragment: str,
) -> None:
    monkeypatch.delenv("FERROTUNE_STORAGE", raising=False)
    got, out, err = run(capsys, *argv)
    assert got == code and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert fragment in err


def test_verbose_shows_traceback(
    capsys: pytest.CaptureFixture[str], url: str, filled: ferrotune.Study
) -> None:
    code, _, err = run(capsys, "trials", "--storage", url, "--study-name", "nope", "--verbose")
    assert code == 1
    assert "Traceback (most recent call last)" in err
    assert err.strip().splitlines()[-1].startswith("ferrotune trials: error: no study named")


def test_storage_from_environment(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    filled: ferrotune.Study,
) -> None:
    monkeypatch.setenv("FERROTUNE_STORAGE", url)
    code, out, _ = run(capsys, "study-names")
    assert code == 0 and out.split() == ["quad", "mo"]


def test_subprocess(url: str, filled: ferrotune.Study) -> None:
    """The real command line, as a user runs it: output on stdout, one error line on stderr."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    base = [sys.executable, "-m", "ferrotune"]
    done = subprocess.run(
        [*base, "best-trial", "--storage", url, "--study-name", "quad", "-f", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["value"] == filled.best_value
    done = subprocess.run(
        [*base, "trials", "--storage", url, "--study-name", "nope"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "ferrotune trials: error: no study named 'nope' in the storage "
        "(--verbose shows the traceback)"
    ]
    assert "Traceback" not in done.stderr


def test_yaml_without_pyyaml(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    filled: ferrotune.Study,
) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)  # as if PyYAML were not installed
    code, out, err = run(capsys, "studies", "--storage", url, "-f", "yaml")
    assert code == 1 and out == ""
    assert "pip install 'ferrotune[cli]'" in err and len(err.strip().splitlines()) == 1


def test_command_line_imports_nothing_optional() -> None:
    """Building the command line (every command's parser) imports no optional package:
    each command loads what it needs when it runs."""
    script = (
        "import sys, ferrotune.cli, ferrotune.dashboard; ferrotune.cli._parser(); "
        "print([m for m in ('plotly', 'starlette', 'uvicorn', 'yaml', 'selenium', 'pandas') "
        "if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_closed_pipe_ends_quietly(url: str) -> None:
    """`ferrotune trials ... | head -c 1`: the reader leaves early; no error message."""
    from ferrotune.distributions import FloatDistribution

    study = ferrotune.create_study(study_name="big", storage=url)
    dist = {"x": FloatDistribution(-5.0, 5.0)}
    # Far more output than a pipe's buffer, so the writer meets the closed pipe.
    study.add_trials(
        [
            ferrotune.create_trial(params={"x": i / 1000}, distributions=dist, value=float(i))
            for i in range(3000)
        ]
    )
    proc = subprocess.run(
        f'"{sys.executable}" -m ferrotune trials --storage "{url}" --study-name big -f json'
        " | head -c 1",
        shell=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        timeout=120,
    )
    assert proc.stdout == "["
    assert "error" not in proc.stderr.lower() and "Traceback" not in proc.stderr, proc.stderr


def test_flattened_multi_objective_trials_without_values_keep_the_values_columns(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """As Optuna's CLI: a PRUNED or FAIL trial of a study with two objectives prints
    ``values_0`` and ``values_1`` as null, not a ``values`` column of its own."""
    url = f"sqlite:///{tmp_path / 'mo.db'}"
    study = ferrotune.create_study(study_name="mo", storage=url, directions=["minimize"] * 2)
    for state in (None, ferrotune.TrialState.PRUNED, ferrotune.TrialState.FAIL):
        t = study.ask()
        t.suggest_float("a", 0, 1)
        if state is None:
            study.tell(t, [1.0, 2.0])
        else:
            study.tell(t, state=state)
    code, out, _ = run(capsys, "trials", "--storage", url, "-f", "json", "--flatten")
    assert code == 0
    rows = json.loads(out)
    assert [sorted(k for k in r if k.startswith("values")) for r in rows] == [
        ["values_0", "values_1"]
    ] * 3
    assert rows[1]["values_0"] is None and rows[0]["values_1"] == 2.0


def _quadratic_objective(path: Path) -> Path:
    """A module file whose ``objective`` is x² over [-5, 5], for ``worker --objective``."""
    path.write_text("def objective(trial):\n    return trial.suggest_float('x', -5, 5) ** 2\n")
    return path


def test_worker_runs_without_quiet(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """'ferrotune worker' in its default (logging) form runs its trials: a function-level
    import once made 'ferrotune' unbound there unless --quiet was given."""
    objective = _quadratic_objective(tmp_path / "wobj.py")
    code, _, err = run(
        capsys, "worker", "--storage", url, "--study", "w",
        "--objective", f"{objective}:objective", "--n-trials", "3", "--direction", "minimize",
    )  # fmt: skip
    assert code == 0, err
    study = ferrotune.load_study(study_name="w", storage=url)
    assert [t.state for t in study.trials] == [ferrotune.TrialState.COMPLETE] * 3


def test_worker_warns_that_retry_needs_heartbeats(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    objective = _quadratic_objective(tmp_path / "robj.py")
    args = ("worker", "--storage", url, "--study", "r", "--objective", f"{objective}:objective",
            "--n-trials", "1", "--quiet", "--direction", "minimize")  # fmt: skip
    code, _, err = run(capsys, *args, "--retry-failed", "--max-retry", "2")
    assert code == 0
    assert "--retry-failed, --max-retry need --heartbeat-interval" in err
    code, _, err = run(capsys, *args, "--retry-failed", "--heartbeat-interval", "60")
    assert code == 0 and "need --heartbeat-interval" not in err


def test_workers_given_one_seed_draw_their_own_values(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two workers with --seed 7 drew the same values (20 of 40 x repeated with random).
    objective = _quadratic_objective(tmp_path / "sobj.py")
    args = ("worker", "--storage", url, "--study", "s", "--objective", f"{objective}:objective",
            "--direction", "minimize", "--sampler", "random", "--seed", "7", "--quiet")  # fmt: skip
    for _ in range(2):
        assert run(capsys, *args, "--n-trials", "5")[0] == 0
    xs = [t.params["x"] for t in ferrotune.load_study(study_name="s", storage=url).trials]
    assert len(set(xs)) == 10
    alone = ferrotune.create_study(sampler=ferrotune.samplers.RandomSampler(seed=7))
    alone.optimize(lambda t: t.suggest_float("x", -5, 5) ** 2, n_trials=5)
    assert xs[:5] == [t.params["x"] for t in alone.trials]  # the first keeps --seed
    # Without --n-trials the closing line counts the trials it ran.
    code, out, _ = run(capsys, *args[:-1], "--timeout", "0.5")
    assert code == 0 and "None" not in out and "trial(s) of study 's' done" in out


def test_infinite_values_are_shown_not_blanked(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A COMPLETE trial of value inf was printed as null / an empty cell, like a trial
    without a value; now as Optuna's command line: inf in tables, Infinity in JSON."""
    study = ferrotune.create_study(study_name="inf", storage=url)
    study.tell(study.ask(), math.inf)
    study.tell(study.ask(), state=ferrotune.TrialState.FAIL)
    base = ("trials", "--storage", url, "--study-name", "inf")
    _, out, _ = run(capsys, *base, "-f", "json")
    assert [r["value"] for r in json.loads(out)] == [math.inf, None]
    _, out, _ = run(capsys, *base, "-f", "table")
    assert "inf" in out.splitlines()[3]
    _, out, _ = run(capsys, *base, "-f", "value")
    assert out.splitlines()[0].split()[1] == "inf"


def test_worker_objective_errors_have_the_documented_form(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong --objective printed a bare message (a SystemExit); docs/cli.md promises
    'ferrotune <cmd>: error: ...' and status 1 for every mistake."""
    objective = tmp_path / "wobj.py"
    objective.write_text("value = 1\n")
    for spec in (f"{objective}:nothere", f"{objective}:value", "no_colon"):
        code, _, err = run(
            capsys, "worker", "--storage", url, "--study", "w",
            "--objective", spec, "--n-trials", "1", "--direction", "minimize",
        )  # fmt: skip
        assert code == 1
        assert err.startswith("ferrotune worker: error: --objective"), err


def test_tell_takes_negative_infinity_and_exponents(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """'tell --values -inf' was read by argparse as an unknown option (status 2)."""
    study = ferrotune.create_study(study_name="neg", storage=url, directions=["minimize"] * 2)
    for _ in range(3):
        study.ask()
    base = ("tell", "--storage", url, "--study-name", "neg", "--trial-number")
    assert run(capsys, *base, "0", "--values", "-inf", "-1e-3")[0] == 0
    assert run(capsys, *base, "1", "--values", "-2.5E+2", "-.5")[0] == 0
    assert run(capsys, *base, "2", "--values", "-nan", "1")[0] == 0
    trials = ferrotune.load_study(study_name="neg", storage=url).trials
    assert trials[0].values == [-math.inf, -1e-3] and trials[1].values == [-250.0, -0.5]
    assert trials[2].state == ferrotune.TrialState.FAIL  # NaN, as Optuna
    assert run(capsys, *base, "0", "--no-such-option")[0] == 2


def test_dashboard_on_a_port_in_use_is_one_line_and_status_1(
    capsys: pytest.CaptureFixture[str], filled: ferrotune.Study, url: str
) -> None:
    # It said it served there, then the server's own error and status 3.
    pytest.importorskip("starlette")
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        code, _, err = run(capsys, "dashboard", "--storage", url, "--port", port)
    assert code == 1 and "cannot listen there" in err and len(err.strip().splitlines()) == 1
    assert "ferrotune dashboard (" not in err


def test_user_attrs_columns_as_optunas_cli(capsys: pytest.CaptureFixture[str], url: str) -> None:
    # studies -f json left user_attrs out of a study without attributes while another
    # had some (a script reading s["user_attrs"] got KeyError); trials always had it.
    plain = ferrotune.create_study(study_name="plain", storage=url)
    plain.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    tagged = ferrotune.create_study(study_name="tagged", storage=url)
    tagged.set_user_attr("owner", "me")
    code, out, _ = run(capsys, "studies", "--storage", url, "-f", "json")
    assert code == 0
    assert {s["name"]: s["user_attrs"] for s in json.loads(out)} == {
        "plain": {},
        "tagged": {"owner": "me"},
    }
    for command in ("trials", "best-trials", "best-trial"):
        code, out, _ = run(capsys, command, "--storage", url, "--study-name", "plain", "-f", "json")
        rows = json.loads(out)
        assert code == 0 and all(
            "user_attrs" not in r for r in (rows if isinstance(rows, list) else [rows])
        )
    # One trial with an attribute brings the column to every row.
    trial = plain.ask()
    trial.set_user_attr("note", 1)
    plain.tell(trial, 0.5)
    code, out, _ = run(capsys, "trials", "--storage", url, "--study-name", "plain", "-f", "json")
    assert [r["user_attrs"] for r in json.loads(out)] == [{}, {}, {"note": 1}]
