"""``ferrotune.logging`` with Optuna's functions and defaults."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

import ferrotune
import ferrotune.logging as flog


@pytest.fixture(autouse=True)
def _restore_defaults() -> Iterator[None]:
    root = logging.getLogger("ferrotune")
    level, propagate = root.level, root.propagate
    yield
    root.setLevel(level)
    root.propagate = propagate
    flog.enable_default_handler()


def _run_two_trials() -> None:
    study = ferrotune.create_study(sampler=ferrotune.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)


def test_constants_are_the_standard_levels() -> None:
    """The level constants of Optuna's module."""
    assert (flog.CRITICAL, flog.FATAL, flog.ERROR) == (50, 50, 40)
    assert (flog.WARNING, flog.WARN, flog.INFO, flog.DEBUG) == (30, 30, 20, 10)
    assert ferrotune.logging is flog


def test_default_is_info_on_stderr_without_propagation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """As Optuna, each finished trial is reported on stderr at INFO
    by a handler of the "ferrotune" logger, which does not propagate to the root."""
    assert flog.get_verbosity() == flog.INFO
    assert logging.getLogger("ferrotune").propagate is False
    _run_two_trials()
    err = capsys.readouterr().err
    assert "Trial 0 finished" in err and "Trial 1 finished" in err


def test_set_verbosity_changes_what_is_emitted(capsys: pytest.CaptureFixture[str]) -> None:
    """``set_verbosity(WARNING)`` (the tutorials' first line) hides
    the INFO reports, warnings still show; ``get_verbosity`` reads the level back."""
    flog.set_verbosity(flog.WARNING)
    assert flog.get_verbosity() == flog.WARNING
    _run_two_trials()
    assert "finished" not in capsys.readouterr().err
    flog.get_logger("ferrotune.test").warning("still shown")
    assert "still shown" in capsys.readouterr().err
    flog.set_verbosity(flog.ERROR)
    flog.get_logger("ferrotune.test").warning("hidden now")
    assert "hidden now" not in capsys.readouterr().err
    flog.set_verbosity(flog.DEBUG)
    assert flog.get_verbosity() == flog.DEBUG
    flog.get_logger("ferrotune.test").debug("debug shown")
    assert "debug shown" in capsys.readouterr().err


def test_disable_and_enable_the_default_handler(capsys: pytest.CaptureFixture[str]) -> None:
    """Without the default handler nothing reaches stderr."""
    flog.disable_default_handler()
    _run_two_trials()
    assert "finished" not in capsys.readouterr().err
    flog.enable_default_handler()
    _run_two_trials()
    assert "Trial 1 finished" in capsys.readouterr().err


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "ferrotune" and record.getMessage().startswith("Trial"):
            self.messages.append(record.getMessage().split(" with")[0])


def test_enable_and_disable_propagation(capsys: pytest.CaptureFixture[str]) -> None:
    """With propagation the root logger's handlers (a file set up
    with ``logging.basicConfig``, say) see ferrotune's records; without it (the
    default) they do not."""
    root = logging.getLogger()
    collect = _Collect()
    root.addHandler(collect)
    try:
        _run_two_trials()
        assert collect.messages == []
        flog.enable_propagation()
        _run_two_trials()
        assert collect.messages == ["Trial 0 finished", "Trial 1 finished"]
        flog.disable_propagation()
        _run_two_trials()
        assert len(collect.messages) == 2
    finally:
        root.removeHandler(collect)


def test_get_logger_returns_a_child_under_the_package_settings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``get_logger(name)`` is the standard logger of that name."""
    log = flog.get_logger("ferrotune.mine")
    assert log is logging.getLogger("ferrotune.mine")
    log.info("from a child")
    assert "from a child" in capsys.readouterr().err


def test_optunas_logger_name_reaches_ferrotunes_records() -> None:
    """Optuna's RDB tutorial adds a handler to ``get_logger("optuna")``; after
    ``import ferrotune as optuna`` it must capture the study's records."""
    import io
    import logging as std_logging

    stream = io.StringIO()
    handler = std_logging.StreamHandler(stream)
    logger = ferrotune.logging.get_logger("optuna")
    assert logger is std_logging.getLogger("ferrotune")
    assert ferrotune.logging.get_logger("optuna.study").name == "ferrotune.study"
    logger.addHandler(handler)
    level = ferrotune.logging.get_verbosity()
    try:
        ferrotune.logging.set_verbosity(ferrotune.logging.INFO)
        study = ferrotune.create_study()
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    finally:
        logger.removeHandler(handler)
        ferrotune.logging.set_verbosity(level)
    assert "Trial 1 finished" in stream.getvalue()


def test_a_pruned_trial_logs_its_trialpruned_message(capsys: pytest.CaptureFixture[str]) -> None:
    """As Optuna: ``Trial N pruned. <message>`` with the message the objective raised."""
    study = ferrotune.create_study(sampler=ferrotune.samplers.RandomSampler(seed=0))

    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        if trial.number == 0:
            raise ferrotune.TrialPruned("too slow at epoch 0")
        if trial.number == 1:
            raise ferrotune.TrialPruned()
        return x

    study.optimize(objective, n_trials=3)
    err = capsys.readouterr().err
    assert "Trial 0 pruned. too slow at epoch 0" in err
    assert "Trial 1 pruned.\n" in err
    assert "Trial 2 finished" in err


def test_pruned_messages_are_not_kept_when_info_is_off() -> None:
    flog.set_verbosity(flog.WARNING)
    study = ferrotune.create_study(sampler=ferrotune.samplers.RandomSampler(seed=0))

    def objective(trial: ferrotune.Trial) -> float:
        trial.suggest_float("x", 0, 1)
        raise ferrotune.TrialPruned("stop")

    study.optimize(objective, n_trials=20)
    assert len(study.trials) == 20
    assert study._pruned_reasons == {}
