"""The dashboard's JSON API and its answers to bad and hostile requests (Starlette's test
client: the application in-process, no socket)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import ferrotune

pytest.importorskip("starlette")
pytest.importorskip("starlette.testclient")
pytest.importorskip("sqlalchemy")
from starlette.testclient import TestClient

from ferrotune.dashboard import create_app


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'dash.db'}"
    study = ferrotune.create_study(
        study_name="quad", storage=url, sampler=ferrotune.samplers.RandomSampler(seed=0)
    )

    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", -5, 5)
        for step in range(3):
            trial.report(x * x + 1 / (step + 1), step)
        if trial.number == 4:
            raise ferrotune.TrialPruned()
        return x * x

    study.optimize(objective, n_trials=9)
    study.ask()  # one trial left RUNNING
    mo = ferrotune.create_study(study_name="mo", storage=url, directions=["minimize"] * 2)
    mo.optimize(lambda t: (t.suggest_float("a", 0, 1), 1 - t.suggest_float("a", 0, 1)), 5)
    return url


@pytest.fixture
def client(url: str) -> TestClient:
    return TestClient(create_app(url), base_url="http://127.0.0.1", raise_server_exceptions=False)


def _ids(client: TestClient) -> dict[str, int]:
    return {s["name"]: s["study_id"] for s in client.get("/api/studies").json()}


def test_studies_and_summary(client: TestClient, url: str) -> None:
    studies = client.get("/api/studies").json()
    quad = ferrotune.load_study(study_name="quad", storage=url)
    by_name = {s["name"]: s for s in studies}
    assert by_name["quad"]["n_trials"] == 10 and by_name["mo"]["n_trials"] == 5
    assert by_name["quad"]["best_value"] == quad.best_value
    assert by_name["mo"]["directions"] == ["MINIMIZE", "MINIMIZE"]
    summary = client.get(f"/api/studies/{by_name['quad']['study_id']}").json()
    assert summary["n_trials"] == 10
    assert summary["states"] == {"COMPLETE": 8, "PRUNED": 1, "RUNNING": 1}
    assert summary["best_value"] == quad.best_value
    assert summary["best_trials"] == [quad.best_trial.number]
    assert summary["params"] == ["x"]
    assert "pareto" not in summary["figures"] and "history" in summary["figures"]
    assert "intermediate" in summary["figures"]  # quad's trials reported
    plain = ferrotune.create_study(study_name="plain", storage=url)
    plain.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    sid = {s["name"]: s["study_id"] for s in client.get("/api/studies").json()}["plain"]
    assert "intermediate" not in client.get(f"/api/studies/{sid}").json()["figures"]
    mo = client.get(f"/api/studies/{by_name['mo']['study_id']}").json()
    assert mo["figures"] == ["history", "parallel", "importance", "pareto", "timeline"]
    assert mo["best_value"] is None


def test_trials_pages(client: TestClient, url: str) -> None:
    sid = _ids(client)["quad"]
    quad = ferrotune.load_study(study_name="quad", storage=url)
    page = client.get(f"/api/studies/{sid}/trials").json()
    assert page["n_trials"] == 10
    rows = page["trials"]
    assert [r["number"] for r in rows] == list(range(10))
    for r, t in zip(rows, quad.trials, strict=True):
        assert r["state"] == t.state.name and r["params"] == t.params
        assert r["values"] == t.values
    assert rows[0]["n_intermediate"] == 3
    part = client.get(f"/api/studies/{sid}/trials?offset=8&limit=5").json()
    assert [r["number"] for r in part["trials"]] == [8, 9]
    assert client.get(f"/api/studies/{sid}/trials?offset=50").json()["trials"] == []


def test_new_trials_appear(client: TestClient, url: str) -> None:
    sid = _ids(client)["quad"]
    ferrotune.load_study(study_name="quad", storage=url).optimize(
        lambda t: t.suggest_float("x", -5, 5) ** 2, n_trials=3
    )
    assert client.get(f"/api/studies/{sid}").json()["n_trials"] == 13
    assert len(client.get(f"/api/studies/{sid}/trials?offset=10").json()["trials"]) == 3


def test_page_and_offline_plotly(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "ferrotune dashboard" in page.text
    # Every script the page loads is served by the dashboard itself (no CDN).
    assert "http://" not in page.text and "https://" not in page.text
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000
    assert client.get("/static/dashboard.js").status_code == 200


def test_figures(client: TestClient) -> None:
    """Every figure the summary offers is drawn by ferrotune.visualization (importance may
    say it is unavailable: its default evaluator is optional)."""
    pytest.importorskip("plotly")
    for name, sid in _ids(client).items():
        kinds = client.get(f"/api/studies/{sid}").json()["figures"]
        assert ("pareto" in kinds) == (name == "mo")
        for kind in kinds:
            answer = client.get(f"/api/studies/{sid}/figures/{kind}")
            assert answer.status_code == 200
            body = answer.json()
            if kind == "importance" and "unavailable" in body:
                assert body["unavailable"].startswith("importance unavailable")
                continue
            assert set(body) == {"figure"}, body
            assert body["figure"]["data"], (name, kind)


def test_importance_of_a_maximised_first_objective_ranks_what_makes_it_high(
    tmp_path: Path,
) -> None:
    # The first objective went to the evaluator unchanged, which scores what makes a
    # target low: the ranking came out backwards (the report negated it already).
    pytest.importorskip("plotly")
    url = f"sqlite:///{tmp_path / 'max.db'}"
    study = ferrotune.create_study(
        storage=url,
        study_name="max",
        directions=["maximize", "minimize"],
        sampler=ferrotune.samplers.RandomSampler(seed=0),
    )

    def objective(trial: ferrotune.Trial) -> tuple[float, float]:
        a = trial.suggest_float("a", 0, 1)
        b = trial.suggest_float("b", 0, 1)
        return (10.0 * a if a > 0.8 else 0.1 * b), 0.0

    study.optimize(objective, n_trials=300)
    client = TestClient(create_app(url), base_url="http://127.0.0.1")
    sid = _ids(client)["max"]
    body = client.get(f"/api/studies/{sid}/figures/importance").json()
    if "unavailable" in body:
        pytest.skip(body["unavailable"])
    bar = body["figure"]["data"][0]
    ranked = dict(zip(bar["y"], bar["x"], strict=True))
    assert ranked["a"] > ranked["b"], ranked


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/studies/999", 404),
        ("GET", "/api/studies/99999999999999999999999999999999999999", 404),
        ("GET", "/api/studies/-1", 404),
        ("GET", "/api/studies/abc", 404),
        ("GET", "/api/studies/1;DROP TABLE studies", 404),
        ("GET", "/api/studies/999/trials", 404),
        ("GET", "/api/studies/{quad}/trials?offset=-1", 400),
        ("GET", "/api/studies/{quad}/trials?offset=1e3", 400),
        ("GET", "/api/studies/{quad}/trials?offset=" + "9" * 5000, 400),
        ("GET", "/api/studies/{quad}/trials?limit=999999", 400),
        ("GET", "/api/studies/{quad}/trials?limit=%00", 400),
        ("GET", "/api/studies/{quad}/trials?offset=1%27%20OR%201=1", 400),
        ("GET", "/api/studies/{quad}/figures/__class__", 404),
        ("GET", "/api/studies/{quad}/figures/" + "x" * 10000, 404),
        ("GET", "/api/studies/999/figures/history", 404),
        ("GET", "/static/../../../../etc/passwd", 404),
        ("GET", "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd", 404),
        ("GET", "/static/..%2f..%2f_app.py", 404),
        ("GET", "/nope", 404),
        ("POST", "/api/studies", 405),
        ("DELETE", "/api/studies/{quad}", 403),
        ("POST", "/api/studies/{quad}/trials/9/fail", 403),
    ],
)
def test_bad_requests(client: TestClient, url: str, method: str, path: str, status: int) -> None:
    path = path.replace("{quad}", str(_ids(client)["quad"]))
    answer = client.request(method, path)
    assert answer.status_code == status, answer.text
    # Nothing changed.
    assert ferrotune.load_study(study_name="quad", storage=url).trials[-1].state.name == "RUNNING"
    assert sorted(ferrotune.get_all_study_names(url)) == ["mo", "quad"]


def test_allow_writes(url: str) -> None:
    client = TestClient(
        create_app(url, allow_writes=True),
        base_url="http://localhost",
        raise_server_exceptions=False,
    )
    ids = _ids(client)
    # Without the write header (a form or link of another site cannot add it): refused.
    assert client.delete(f"/api/studies/{ids['mo']}").status_code == 403
    assert client.post(f"/api/studies/{ids['quad']}/trials/9/fail").status_code == 403
    client.headers["X-Ferrotune-Write"] = "1"
    # Only a RUNNING trial can be failed; a finished one is a 400.
    assert client.post(f"/api/studies/{ids['quad']}/trials/0/fail").status_code == 400
    assert client.post(f"/api/studies/{ids['quad']}/trials/9/fail").status_code == 200
    assert ferrotune.load_study(study_name="quad", storage=url).trials[9].state.name == "FAIL"
    assert client.delete(f"/api/studies/{ids['mo']}").status_code == 200
    assert ferrotune.get_all_study_names(url) == ["quad"]
    assert client.get(f"/api/studies/{ids['mo']}").status_code == 404


def test_foreign_host_refused(url: str) -> None:
    """A page of another site whose name resolves to 127.0.0.1 (DNS rebinding) is refused."""
    client = TestClient(create_app(url), base_url="http://evil.example")
    assert client.get("/api/studies").status_code == 400
    anyone = TestClient(create_app(url, allowed_hosts=None), base_url="http://evil.example")
    assert anyone.get("/api/studies").status_code == 200


def test_missing_dependency(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setitem(__import__("sys").modules, "uvicorn", None)
    with pytest.raises(
        ferrotune.exceptions.MissingDependencyError, match="ferrotune\\[dashboard\\]"
    ):
        create_app(url)


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from ferrotune.cli import main

    capsys.readouterr()
    code = main(argv)
    return code, capsys.readouterr().err


def test_cli_dashboard(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    """The command's options reach the server; a non-loopback address prints a warning."""
    import ferrotune.dashboard._app as app

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(
        app,
        "run",
        lambda storage, host, port, **kw: calls.append({"host": host, "port": port, **kw}),
    )
    code, err = _cli(["dashboard", "--storage", url], capsys)
    assert code == 0 and calls[-1] == {"host": "127.0.0.1", "port": 8080, "allow_writes": False}
    assert "warning" not in err and "read-only" in err
    code, err = _cli(
        ["dashboard", "--storage", url, "--host", "0.0.0.0", "--port", "9", "--allow-writes"],
        capsys,
    )
    assert code == 0 and calls[-1] == {"host": "0.0.0.0", "port": 9, "allow_writes": True}
    assert err.startswith("warning: listening on 0.0.0.0")
    code, err = _cli(["dashboard", "--storage", url, "--port", "70000"], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "--port" in err
    code, err = _cli(["dashboard", "--storage", "sqlite:////no/such.db"], capsys)
    assert code == 1 and "no such file" in err


def test_infinite_and_nan_values_keep_the_dashboard_up(url: str) -> None:
    """One study holding an inf value (COMPLETE, as Optuna allows), a NaN attribute and an
    inf intermediate value made /api/studies, the list of every study, answer 500: JSON
    has no such floats. Every answer must now be strict JSON a browser parses."""
    import json

    odd = ferrotune.create_study(study_name="odd", storage=url)
    t = odd.ask()
    t.suggest_float("x", 0, 1)
    t.set_user_attr("ratio", float("nan"))
    t.set_user_attr("plot", {"figure": "png", "loss": float("inf")})  # not a plotly figure
    t.report(float("inf"), 0)
    odd.tell(t, float("-inf"))
    odd.tell(odd.ask(), 1.0)
    client = TestClient(create_app(url), base_url="http://127.0.0.1", raise_server_exceptions=False)

    def strict(path: str) -> Any:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:200])

        def refuse(name: str) -> Any:
            raise AssertionError(f"{path} answered {name}, which a browser cannot parse")

        return json.loads(response.text, parse_constant=refuse)

    sid = {s["name"]: s["study_id"] for s in strict("/api/studies")}["odd"]
    assert strict(f"/api/studies/{sid}")["best_value"] == "-inf"
    rows = strict(f"/api/studies/{sid}/trials")
    text = json.dumps(rows)
    assert '"-inf"' in text and '"nan"' in text
    assert rows["trials"][0]["user_attrs"]["plot"] == {"figure": "png", "loss": "inf"}
    for kind in ("history", "timeline", "intermediate"):
        strict(f"/api/studies/{sid}/figures/{kind}")
