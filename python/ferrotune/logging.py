"""ferrotune's logging, with Optuna's functions and defaults.

Every message of the package goes to the ``"ferrotune"`` logger (or a child of it). On
import, ferrotune gives that logger a handler writing to ``sys.stderr`` and the level
``INFO`` (so each finished trial is reported), and stops propagation to the root logger,
as Optuna does for ``"optuna"``.

Example:
    >>> import ferrotune
    >>> ferrotune.logging.set_verbosity(ferrotune.logging.WARNING)  # quieter
    >>> ferrotune.logging.get_verbosity() == ferrotune.logging.WARNING
    True
    >>> ferrotune.logging.set_verbosity(ferrotune.logging.INFO)
"""

from __future__ import annotations

import logging
import numbers
import sys
import threading
from logging import CRITICAL, DEBUG, ERROR, FATAL, INFO, WARN, WARNING

__all__ = [
    "CRITICAL",
    "DEBUG",
    "ERROR",
    "FATAL",
    "INFO",
    "WARN",
    "WARNING",
    "disable_default_handler",
    "disable_propagation",
    "enable_default_handler",
    "enable_propagation",
    "get_logger",
    "get_verbosity",
    "set_verbosity",
]

_ROOT_NAME = "ferrotune"
_lock = threading.Lock()
_default_handler: logging.Handler | None = None


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the ``sys.stderr`` of the moment, so that redirections made after
    import (a notebook, ``contextlib.redirect_stderr``, pytest's capture) are followed."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _root() -> logging.Logger:
    return logging.getLogger(_ROOT_NAME)


def _configure() -> logging.Handler:
    """Installs the default handler once (INFO level, no propagation)."""
    global _default_handler
    with _lock:
        if _default_handler is None:
            handler = _StderrHandler()
            handler.setFormatter(logging.Formatter("[%(levelname).1s %(asctime)s] %(message)s"))
            root = _root()
            root.addHandler(handler)
            root.setLevel(INFO)
            root.propagate = False
            _default_handler = handler
        return _default_handler


def get_logger(name: str) -> logging.Logger:
    """The logger ``name`` (use a name under ``"ferrotune."`` for the package's
    settings to apply to it). ``"optuna"`` and names under ``"optuna."`` give the
    ``"ferrotune"`` logger and those under it, so that a script written for Optuna
    (``optuna.logging.get_logger("optuna").addHandler(...)``) sees ferrotune's records."""
    _configure()
    if name == "optuna" or name.startswith("optuna."):
        name = "ferrotune" + name[len("optuna") :]
    return logging.getLogger(name)


def get_verbosity() -> int:
    """The level of the ``"ferrotune"`` logger (``INFO`` by default)."""
    _configure()
    return _root().getEffectiveLevel()


def set_verbosity(verbosity: int | str) -> None:
    """Sets the level of the ``"ferrotune"`` logger, such as ``ferrotune.logging.WARNING``
    to hide the report of each finished trial; a level's name (``"WARNING"``) too, as the
    standard ``logging`` module (and so Optuna) takes it."""
    from ferrotune.exceptions import InvalidArgumentError

    if isinstance(verbosity, str):
        level = logging.getLevelName(verbosity.upper())
        if not isinstance(level, int):
            raise InvalidArgumentError(
                f"verbosity: unknown level name {verbosity!r} (DEBUG, INFO, WARNING, "
                "ERROR or CRITICAL)"
            )
        verbosity = level
    if isinstance(verbosity, bool) or not isinstance(verbosity, numbers.Integral):
        raise InvalidArgumentError(
            f"verbosity must be a level such as ferrotune.logging.WARNING, got {verbosity!r}"
        )
    _configure()
    _root().setLevel(int(verbosity))


def disable_default_handler() -> None:
    """Stops writing ferrotune's messages to ``sys.stderr``."""
    _root().removeHandler(_configure())


def enable_default_handler() -> None:
    """Writes ferrotune's messages to ``sys.stderr`` again (the default)."""
    _root().addHandler(_configure())


def disable_propagation() -> None:
    """Keeps ferrotune's messages from the root logger's handlers (the default)."""
    _configure()
    _root().propagate = False


def enable_propagation() -> None:
    """Passes ferrotune's messages on to the root logger's handlers too (for example
    to a file configured with ``logging.basicConfig``; disable the default handler to
    avoid printing them twice)."""
    _configure()
    _root().propagate = True


_configure()
