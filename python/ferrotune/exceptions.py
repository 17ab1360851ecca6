"""Exceptions raised by ferrotune.

Every error caused by bad input is a :class:`ValueError` subclass whose message names
the parameter and the problem. The Rust core raises these same classes. Errors that are
not the input's fault (a locked database, a bug) are :class:`RuntimeError` subclasses.

Optuna's names are here too, so that ``except optuna.exceptions.OptunaError`` and its
siblings catch ferrotune's errors where Optuna users catch Optuna's: :class:`OptunaError`
is :class:`FerrotuneError` itself (the base of every error below), and
:class:`StorageInternalError`, :class:`DuplicatedStudyError`,
:class:`UpdateFinishedTrialError` and :class:`TrialPruned` are raised where Optuna raises
them.
"""

from __future__ import annotations

__all__ = [
    "CLIUsageError",
    "DuplicatedStudyError",
    "ExperimentalWarning",
    "FerrotuneError",
    "IncompatibleDistributionError",
    "IncompatibleStorageError",
    "InfeasibleSpaceError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidDistributionError",
    "InvalidSpaceError",
    "InvalidTrialError",
    "MissingDependencyError",
    "MultiObjectiveError",
    "OptunaError",
    "StorageInternalError",
    "StorageLockedError",
    "StudyNotFoundError",
    "TrialPruned",
    "UnknownStudyError",
    "UpdateFinishedTrialError",
]


class FerrotuneError(Exception):
    """Base class of ferrotune's own exceptions (also reachable as :class:`OptunaError`)."""


#: Optuna's name of the base class: ``except OptunaError`` catches every ferrotune error.
OptunaError = FerrotuneError


class ExperimentalWarning(Warning):
    """Warns that a feature is experimental: its interface may change (Optuna's name)."""


class CLIUsageError(FerrotuneError, ValueError):
    """The command line got an invalid configuration (Optuna's name)."""


class StorageInternalError(FerrotuneError, RuntimeError):
    """An operation failed in a storage's backend, not through the caller's input
    (Optuna's name; also a :class:`RuntimeError`)."""


class InvalidDistributionError(FerrotuneError, ValueError):
    """A distribution's arguments are invalid (low > high, log with low <= 0, a step that
    does not divide the range, empty or duplicate choices, non-finite bounds)."""


class IncompatibleDistributionError(FerrotuneError, ValueError):
    """A parameter name was suggested again with a distribution it cannot take."""


class InvalidSpaceError(FerrotuneError, ValueError):
    """A declared search space, condition or constraint is malformed."""


class InfeasibleSpaceError(FerrotuneError, ValueError):
    """No configuration satisfies the hard constraints (the feasible set appears empty)."""


class InvalidTrialError(FerrotuneError, ValueError, RuntimeError):
    """An operation a trial does not allow, such as telling a finished trial.

    Also a :class:`RuntimeError`, as Optuna raises there.
    """


class UpdateFinishedTrialError(InvalidTrialError):
    """A change to a trial that has already finished: telling it again, or setting an
    attribute, a parameter, a constraint or an intermediate value on it.

    Optuna raises an error of this name (a :class:`RuntimeError`) in the same places.
    """


class StudyNotFoundError(FerrotuneError, ValueError, KeyError):
    """The study does not exist (any more) in its storage: it was deleted, or the name is
    unknown. Also a :class:`KeyError`, as Optuna's storages raise there."""

    def __str__(self) -> str:
        # KeyError's str() would quote the message.
        return str(self.args[0]) if self.args else ""


class InvalidArgumentError(FerrotuneError, ValueError):
    """An argument outside its documented range."""


class UnknownStudyError(InvalidArgumentError, StudyNotFoundError):
    """No study of that name in the storage (:func:`~ferrotune.load_study`,
    :func:`~ferrotune.delete_study`, ...): an :class:`InvalidArgumentError` and a
    :class:`StudyNotFoundError`, so also a :class:`KeyError`, which Optuna raises there
    (``except KeyError: create_study(...)`` works as with Optuna)."""


class MultiObjectiveError(InvalidArgumentError, RuntimeError):
    """A single-objective accessor (``Study.direction``, ``best_trial``, ``best_value``,
    ``best_params``, ``FrozenTrial.value``) used with several objectives: an
    :class:`InvalidArgumentError` and a :class:`RuntimeError`, which Optuna raises there
    (``except RuntimeError:`` works as with Optuna)."""


class DuplicatedStudyError(FerrotuneError, ValueError):
    """A study with that name already exists in the storage."""


class IncompatibleStorageError(FerrotuneError, ValueError):
    """The storage holds another schema than ferrotune's (for example an Optuna
    database), or a ferrotune schema it cannot read."""


class StorageLockedError(StorageInternalError):
    """A database stayed locked by another connection for longer than the storage's
    ``lock_timeout``."""


class InternalError(FerrotuneError, RuntimeError):
    """A bug in ferrotune (a panic of its Rust core, caught at the boundary); please
    report it."""


class MissingDependencyError(FerrotuneError, ImportError, ValueError):
    """An optional package that a feature needs is not installed; the message names the
    extra that installs it (``pip install 'ferrotune[postgres]'``, ...).

    An :class:`ImportError`, as Python code expects of a missing package, and a
    :class:`ValueError`, as every error of ferrotune's input checks.
    """


class TrialPruned(FerrotuneError):  # noqa: N818 - Optuna's public name
    """Raise inside an objective to stop a trial early and mark it PRUNED.

    :meth:`~ferrotune.Study.optimize` treats Optuna's ``optuna.TrialPruned`` the same
    way, so an objective or pruning callback written for Optuna prunes here too."""
