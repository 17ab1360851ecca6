"""The dashboard end to end in a real headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by Selenium): ``ferrotune dashboard`` runs as a user starts
it, the page shows the study, sorts and filters its trials, and updates while a worker
process adds trials. Screenshots go to ``$FERROTUNE_ARTIFACTS`` (default: a temporary
directory) for a person to look at.

Skipped when Chromium or its driver is missing, unless ``FERROTUNE_REQUIRE_BROWSER`` is set
(CI sets it): then their absence fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import ferrotune

REQUIRED = bool(os.environ.get("FERROTUNE_REQUIRE_BROWSER"))
ROOT = Path(__file__).resolve().parents[2]
OBJECTIVES = ROOT / "tests" / "storages" / "_objectives.py"


def _browser() -> tuple[str, str] | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or (
        "/usr/lib/chromium/chromedriver"
        if Path("/usr/lib/chromium/chromedriver").exists()
        else None
    )
    return (chromium, driver) if chromium and driver else None


if _browser() is None:
    if REQUIRED:
        pytest.fail(
            "FERROTUNE_REQUIRE_BROWSER is set but chromium or chromedriver is missing "
            "(apt-get install chromium chromium-driver)",
            pytrace=False,
        )
    pytest.skip(
        "needs Chromium and its driver: apt-get install chromium chromium-driver "
        "(set FERROTUNE_REQUIRE_BROWSER=1 to fail instead of skipping)",
        allow_module_level=True,
    )
if not REQUIRED:
    pytest.importorskip("selenium")
    pytest.importorskip("starlette")
    pytest.importorskip("uvicorn")
    pytest.importorskip("sqlalchemy")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


def _artifacts(tmp_path: Path) -> Path:
    where = Path(os.environ.get("FERROTUNE_ARTIFACTS") or tmp_path / "artifacts")
    where.mkdir(parents=True, exist_ok=True)
    return where


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read())


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    study = ferrotune.create_study(
        study_name="quad", storage=url, sampler=ferrotune.samplers.RandomSampler(seed=0)
    )

    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", -10.0, 10.0)
        k = trial.suggest_int("k", 0, 4)
        for step in range(4):
            trial.report((x - 2.0) ** 2 + k + 4 - step, step)
        return (x - 2.0) ** 2 + k

    study.optimize(objective, n_trials=12)
    mo = ferrotune.create_study(
        study_name="mo",
        storage=url,
        directions=["minimize", "minimize"],
        sampler=ferrotune.samplers.RandomSampler(seed=1),
    )
    mo.optimize(lambda t: (t.suggest_float("a", 0, 1), (1 - t.suggest_float("a", 0, 1)) ** 2), 10)
    return url


@pytest.fixture
def server(url: str) -> Iterator[str]:
    """``ferrotune dashboard`` in its own process; its address."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ferrotune", "dashboard", "--storage", url, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(base + "/api/studies")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read() if proc.stdout else ""
                    pytest.fail(f"the dashboard did not start: {out}")
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def browser() -> Iterator[Any]:
    found = _browser()
    assert found is not None
    chromium, driver = found
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    options.add_argument("--window-size=1500,2400")
    chrome = webdriver.Chrome(options=options, service=Service(driver))
    try:
        yield chrome
    finally:
        chrome.quit()


def _until(chrome: Any, check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    return WebDriverWait(chrome, timeout, poll_frequency=0.2).until(
        lambda _: check(), message=f"the page never showed {what}"
    )


def _text(chrome: Any, element_id: str) -> str:
    return str(chrome.find_element(By.ID, element_id).text)


# The page redraws its table at every poll: read and click in one script call, so no
# element goes stale between two WebDriver commands.
def _rows(chrome: Any) -> list[list[str]]:
    rows: list[list[str]] = chrome.execute_script(
        "return [...document.querySelectorAll('#trials-table tbody tr')]"
        ".map(tr => [...tr.cells].map(td => td.textContent));"
    )
    return rows


def _click_header(chrome: Any, name: str) -> None:
    chrome.execute_script(
        "[...document.querySelectorAll('#trials-table th')]"
        ".find(th => th.textContent === arguments[0]).click();",
        name,
    )


def _history_points(chrome: Any) -> int:
    """The points drawn in the history figure's first trace (0 before it is drawn)."""
    n: int = chrome.execute_script(
        "const t = document.querySelector('#fig-history .scatterlayer .trace');"
        "return t ? t.querySelectorAll('.point').length : 0;"
    )
    return n


def _figures_drawn(chrome: Any, count: int) -> bool:
    """Whether ``count`` figures are on the page, each drawn or saying why not."""
    done: bool = chrome.execute_script(
        "const f = [...document.querySelectorAll('#figures .figure')];"
        "return f.length === arguments[0]"
        " && f.every(d => d.querySelector('.main-svg, .unavailable'));",
        count,
    )
    return done


def _shows_best(chrome: Any, best: float) -> bool:
    try:
        return abs(float(_text(chrome, "best-value")) - best) <= 1e-5 * max(1.0, abs(best))
    except ValueError:
        return False


def test_dashboard_in_chromium(server: str, url: str, browser: Any, tmp_path: Path) -> None:
    study = ferrotune.load_study(study_name="quad", storage=url)
    browser.get(server + "/")
    _until(browser, lambda: _text(browser, "n-trials") == "12", "12 trials")
    assert _text(browser, "study-title") == "quad"
    _until(browser, lambda: _shows_best(browser, study.best_value), "the best value")
    _until(browser, lambda: len(_rows(browser)) == 12, "12 table rows")
    names = [
        li.text.splitlines()[0] for li in browser.find_elements(By.CSS_SELECTOR, "#studies li")
    ]
    assert names == ["quad", "mo"]
    # The history figure is drawn with every trial before the screenshot.
    _until(browser, lambda: _history_points(browser) == 12, "the history of 12 trials")
    # history, intermediate values, parallel coordinates, importances, timeline
    _until(browser, lambda: _figures_drawn(browser, 5), "its five figures")
    artifacts = _artifacts(tmp_path)
    browser.save_screenshot(str(artifacts / "dashboard-12-trials.png"))

    # Sorting: a click on "value" orders the rows by value, a second click reverses them.
    _click_header(browser, "value")
    values = [float(r[2]) for r in _rows(browser)]
    assert values == sorted(values) and values[0] == pytest.approx(study.best_value, rel=1e-5)
    _click_header(browser, "value")
    assert [float(r[2]) for r in _rows(browser)] == sorted(values, reverse=True)
    # Filtering: a numeric condition on a column, then the state selector.
    median = sorted(values)[6]
    box = browser.find_element(By.ID, "filter")
    box.send_keys(f"value<{median}")
    expected = sum(t.value is not None and t.value < median for t in study.trials)
    _until(browser, lambda: len(_rows(browser)) == expected, f"{expected} filtered rows")
    box.clear()
    box.send_keys("COMPLETE")  # text matches any cell
    _until(browser, lambda: len(_rows(browser)) == 12, "12 complete rows")
    box.clear()
    box.send_keys(" ")  # clear() fires no input event: type and erase
    box.clear()
    Select(browser.find_element(By.ID, "state-filter")).select_by_visible_text("PRUNED")
    _until(browser, lambda: len(_rows(browser)) == 0, "no pruned rows")
    Select(browser.find_element(By.ID, "state-filter")).select_by_visible_text("all states")

    # A worker process adds trials: the page follows without a reload.
    done = subprocess.run(
        [sys.executable, "-m", "ferrotune", "worker", "--storage", url, "--study", "quad",
         "--objective", f"{OBJECTIVES}:quadratic", "--n-trials", "8", "--sampler", "random",
         "--seed", "5", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    study = ferrotune.load_study(study_name="quad", storage=url)
    assert len(study.trials) == 20
    _until(browser, lambda: _text(browser, "n-trials") == "20", "20 trials after the worker")
    _until(browser, lambda: _shows_best(browser, study.best_value), "the new best value")
    _until(browser, lambda: len(_rows(browser)) == 20, "20 table rows")
    numbers = sorted(int(r[0]) for r in _rows(browser))
    assert numbers == list(range(20))
    _until(browser, lambda: _history_points(browser) == 20, "the history redrawn with 20")
    _until(browser, lambda: _figures_drawn(browser, 5), "its five figures redrawn")
    browser.execute_script("window.scrollTo(0, 0);")
    browser.save_screenshot(str(artifacts / "dashboard-20-trials.png"))
    assert (artifacts / "dashboard-20-trials.png").stat().st_size > 10_000

    # A two-objective study: its Pareto front, every trial a point (all are on the front).
    browser.execute_script(
        "[...document.querySelectorAll('#studies li')]"
        ".find(li => li.firstChild.textContent === 'mo').click();"
    )
    _until(browser, lambda: _text(browser, "study-title") == "mo", "the study mo")
    _until(browser, lambda: len(_rows(browser)) == 10, "10 rows of mo")
    assert _text(browser, "best-value") == "\u2013"  # several objectives: no single best
    # history, parallel coordinates, importances (of objective 0), Pareto front, timeline
    _until(browser, lambda: _figures_drawn(browser, 5), "its five figures")
    points = browser.execute_script(
        "return document.querySelectorAll('#fig-pareto .scatterlayer .point').length;"
    )
    assert points == 10
    browser.save_screenshot(str(artifacts / "dashboard-pareto.png"))
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []
