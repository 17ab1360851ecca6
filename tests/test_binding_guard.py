"""At the binding: a Rust panic reaches Python as a ferrotune
exception at every entry point, and an exception raised by a user callable that Rust
calls (TPE's ``gamma`` and ``weights``, a space's predicates) keeps the original."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ferrotune
from ferrotune import _core
from ferrotune.distributions import FloatDistribution, IntDistribution
from ferrotune.exceptions import FerrotuneError, InternalError, InvalidArgumentError
from ferrotune.samplers import TPESampler

BINDING_SRC = Path(__file__).resolve().parents[1] / "rust" / "ferrotune-py" / "src"


# ------------------------------------------------------------------------ panics contained
@pytest.mark.parametrize("detached", [False, True])
def test_a_panic_is_an_internal_error(detached: bool) -> None:
    """A panic in the binding, with the GIL held or released, reaches
    Python as ferrotune.exceptions.InternalError (a RuntimeError that ``except
    Exception`` catches), never as pyo3's PanicException; the module works on."""
    try:
        _core._panic_for_tests(detached)
    except Exception as e:  # what a user's `except Exception` sees
        caught: BaseException = e
    else:  # pragma: no cover - the call always raises
        pytest.fail("no exception")
    assert type(caught) is InternalError
    assert isinstance(caught, RuntimeError) and isinstance(caught, FerrotuneError)
    assert "a test panic" in str(caught) and "please report it" in str(caught)
    study = ferrotune.create_study()
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=3)
    assert len(study.trials) == 3


def _rust_items(text: str) -> list[tuple[str, str, str]]:
    """(owner, function name, body) of each #[pymethods] method and #[pyfunction] of a
    Rust source, read with string literals and comments blanked out."""
    clean = re.sub(r'//[^\n]*|"(?:\\.|[^"\\])*"', lambda m: re.sub(r"[^\n]", " ", m.group()), text)

    def block_end(start: int) -> int:
        depth = 0
        for i in range(start, len(clean)):
            if clean[i] == "{":
                depth += 1
            elif clean[i] == "}":
                depth -= 1
                if depth == 0:
                    return i
        raise AssertionError("unbalanced braces")

    def body_of(fn_at: int) -> tuple[str, int]:
        open_at = clean.index("{", fn_at)
        end = block_end(open_at)
        return clean[open_at + 1 : end], end

    out: list[tuple[str, str, str]] = []
    # `#[pymethods]` blocks, the one inside a macro's definition (owner `$class`)
    # included, and the methods a `sampler_class!` invocation adds to its class.
    blocks = re.compile(
        r"#\[pymethods\]\s*impl\s+(\$?\w+)\s*\{|\bsampler_class!\s*\{\s*(\w+)\s*\([^)]*\)\s*\{"
    )
    for m in blocks.finditer(clean):
        start = m.end() - 1
        end = block_end(start)
        pos = start + 1
        while True:
            f = re.compile(r"\bfn\s+(\w+)").search(clean, pos, end)
            if f is None:
                break
            body, fn_end = body_of(f.end())
            out.append((m.group(1) or m.group(2), f.group(1), body))
            pos = fn_end + 1
    for m in re.finditer(r"#\[pyfunction\](?:\s*#\[[^\]]*\])*\s*fn\s+(\w+)", clean):
        body, _ = body_of(m.end())
        out.append(("module", m.group(1), body))
    return out


# Entry points allowed to skip `guard` (none today): one listed here must run its Rust
# work in `detached`, which catches panics too.
NOT_YET_GUARDED: set[tuple[str, str]] = set()


@pytest.mark.skipif(not BINDING_SRC.is_dir(), reason="the Rust sources are not here")
def test_every_binding_entry_point_is_guarded() -> None:
    """The body of every #[pymethods] method and #[pyfunction] of the
    binding runs in `guard` (panic -> InternalError, user exceptions chained)."""
    items = [
        it for path in sorted(BINDING_SRC.glob("*.rs")) for it in _rust_items(path.read_text())
    ]
    names = {(owner, name) for owner, name, _ in items}
    assert ("StudyCore", "best_trial") in names and ("module", "log_ndtr") in names
    # The shared methods written once in the sampler macro, and a class's own ones.
    assert {("$class", "get_state"), ("$class", "reseed"), ("RandomSamplerCore", "new")} <= names
    assert ("GpSamplerCore", "get_fits") in names
    unguarded = sorted(
        (owner, name)
        for owner, name, body in items
        if not body.lstrip().startswith("guard(py,") and (owner, name) not in NOT_YET_GUARDED
    )
    assert unguarded == []


# --------------------------------------------------------------- user exceptions chained
class CallbackFailedError(Exception):
    pass


def _objective(trial: ferrotune.Trial) -> float:
    return trial.suggest_float("x", 0.0, 1.0) + trial.suggest_int("k", 0, 3)


SPACE = ferrotune.SearchSpace({"x": FloatDistribution(0.0, 1.0), "k": IntDistribution(0, 3)})


def _ask_space(study: ferrotune.Study) -> Any:
    return study.ask(SPACE)


def _optimize(study: ferrotune.Study) -> Any:
    return study.optimize(_objective, n_trials=1)


def _sample_independent(study: ferrotune.Study) -> Any:
    trial = study.ask()
    frozen = study.trials[trial.number]
    return study.sampler.sample_independent(study, frozen, "x", FloatDistribution(0.0, 1.0))


PATHS: dict[str, tuple[dict[str, Any], Callable[[ferrotune.Study], Any]]] = {
    "suggest": ({}, _optimize),
    "multivariate-relative": ({"multivariate": True}, _optimize),
    "declared-space": ({}, _ask_space),
    "sample_independent": ({}, _sample_independent),
}


def _warm_study(**tpe: Any) -> ferrotune.Study:
    """A TPE study past its startup trials, whose user callables raise from now on."""
    state = {"armed": False}
    calls = tpe.pop("calls")

    def wrap(name: str) -> Callable[[int], Any]:
        def f(n: int) -> Any:
            if state["armed"]:
                return calls[name](n)
            return max(1, n // 10) if name == "gamma" else [1.0] * n

        return f

    sampler = TPESampler(n_startup_trials=2, seed=0, **{k: wrap(k) for k in calls}, **tpe)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(_objective, n_trials=3)
    state["armed"] = True
    return study


@pytest.mark.parametrize("which", ["gamma", "weights"])
@pytest.mark.parametrize("path", list(PATHS))
def test_user_callable_errors_keep_the_original(which: str, path: str) -> None:
    """An exception raised by TPE's gamma or weights, on every path
    that calls it from Rust, reaches the user as a ferrotune error whose __cause__ is
    the very exception raised."""
    raised = CallbackFailedError(f"{which} failed")

    def fail(n: int) -> Any:
        raise raised

    tpe, call = PATHS[path]
    study = _warm_study(calls={which: fail}, **tpe)
    with pytest.raises(InvalidArgumentError) as info:
        call(study)
    assert info.value.__cause__ is raised
    assert which in str(info.value) and "failed" in str(info.value)


@pytest.mark.parametrize(
    ("which", "bad"), [("gamma", lambda n: "three"), ("weights", lambda n: None)]
)
def test_user_callable_wrong_return_type_is_chained(which: str, bad: Any) -> None:
    """A gamma or weights returning a value of the wrong type gives a
    ferrotune error chained to the TypeError of the conversion."""
    study = _warm_study(calls={which: bad})
    with pytest.raises(InvalidArgumentError, match=which) as info:
        study.optimize(_objective, n_trials=1)
    assert isinstance(info.value.__cause__, TypeError)


def test_keyboard_interrupt_in_gamma_is_re_raised() -> None:
    """An interrupt (a BaseException that is no Exception) raised in a
    user callable is re-raised as it is."""
    stop = KeyboardInterrupt()

    def gamma(n: int) -> int:
        raise stop

    study = _warm_study(calls={"gamma": gamma})
    with pytest.raises(KeyboardInterrupt) as info:
        study.ask().suggest_float("x", 0.0, 1.0)
    assert info.value is stop


@pytest.mark.parametrize("sampler", ["tpe", "random"])
def test_predicate_errors_are_re_raised_unchanged(sampler: str) -> None:
    """An exception raised by a space's Python predicate, called from
    the Rust sampler, is the exception the user gets."""
    raised = CallbackFailedError("predicate failed")

    def predicate(p: dict[str, Any]) -> bool:
        raise raised

    space = ferrotune.SearchSpace(
        {"x": FloatDistribution(0.0, 1.0), "k": IntDistribution(0, 3)}, constraints=[predicate]
    )
    s = TPESampler(seed=0) if sampler == "tpe" else ferrotune.samplers.RandomSampler(seed=0)
    study = ferrotune.create_study(sampler=s)
    with pytest.raises(CallbackFailedError) as info:
        study.ask(space)
    assert info.value is raised


def test_a_later_error_has_no_stale_cause() -> None:
    """The exception of one failed callback is not attached to an
    unrelated later error."""
    raised = CallbackFailedError("once")
    state = {"fail": True}

    def gamma(n: int) -> int:
        if state["fail"]:
            state["fail"] = False
            raise raised
        return max(1, n // 10)

    study = _warm_study(calls={"gamma": gamma})
    with pytest.raises(InvalidArgumentError):
        study.optimize(_objective, n_trials=1)
    trial = study.ask()
    with pytest.raises(FerrotuneError) as info:
        trial.suggest_float("y", 1.0, 0.0)
    assert info.value.__cause__ is None
