"""A journal in one file (JSON lines), for processes on one machine or a network file
system, with the lock-file protocols of Optuna's ``JournalFileBackend`` (so that both
libraries' processes can share a file)."""

from __future__ import annotations

import abc
import contextlib
import errno
import json
import logging
import numbers
import os
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any, BinaryIO

from ferrotune.exceptions import InvalidArgumentError
from ferrotune.storages.journal._base import BaseJournalBackend

__all__ = [
    "BaseJournalFileLock",
    "JournalFileBackend",
    "JournalFileOpenLock",
    "JournalFileSymlinkLock",
]

_logger = logging.getLogger("ferrotune.storages")

#: The record a line that is not JSON becomes (the storage skips it with a warning), so
#: that the numbering of the lines after it is the same for every reader.
UNREADABLE_OP = -1
# Seconds between two log lines of a process waiting for a lock.
_WARN_EVERY = 10.0
# Longest sleep between two attempts at a held lock.
_MAX_SLEEP = 0.05


class BaseJournalFileLock(abc.ABC):
    """A lock shared by processes through the file system."""

    @abc.abstractmethod
    def acquire(self) -> bool:
        """Blocks until the lock is held; returns True."""

    @abc.abstractmethod
    def release(self) -> None:
        """Releases the lock (RuntimeError when it was not held)."""


def _check_grace(grace_period: float | None) -> float | None:
    if grace_period is None:
        return None
    if isinstance(grace_period, bool) or not (
        isinstance(grace_period, numbers.Real) and grace_period > 0
    ):
        raise InvalidArgumentError(
            f"grace_period must be a number of seconds > 0 or None, got {grace_period!r}"
        )
    if grace_period < 3:
        _logger.warning("grace_period=%g s of a journal file lock may be too small", grace_period)
    return float(grace_period)


class _LockFile(BaseJournalFileLock):
    """A lock held while the file ``<target>.lock`` exists; a lock file whose time of
    change has not moved for ``grace_period`` seconds (its holder died) is removed."""

    def __init__(self, filepath: str, grace_period: float | None = 30) -> None:
        self._target = filepath
        self._lock_file = filepath + ".lock"
        self.grace_period = _check_grace(grace_period)

    @abc.abstractmethod
    def _try_create(self) -> None:
        """Creates the lock file; raises FileExistsError when it exists."""

    def acquire(self) -> bool:
        sleep = 0.001
        start = last_warning = time.monotonic()
        seen_mtime: float | None = None
        seen_since = start
        while True:
            try:
                self._try_create()
                return True
            except FileExistsError:
                pass
            except OSError as e:
                if e.errno != errno.EEXIST:
                    raise
            now = time.monotonic()
            if now - last_warning > _WARN_EVERY:
                last_warning = now
                _logger.warning(
                    "Waited %.0f s for the journal lock %s; retrying", now - start, self._lock_file
                )
            if self.grace_period is not None:
                try:
                    mtime = os.lstat(self._lock_file).st_mtime
                except OSError:
                    continue  # released meanwhile
                if mtime != seen_mtime:
                    seen_mtime, seen_since = mtime, now
                elif now - seen_since > self.grace_period:
                    _logger.warning(
                        "The journal lock %s was held for more than %g s: removing it",
                        self._lock_file,
                        self.grace_period,
                    )
                    with contextlib.suppress(RuntimeError):
                        self.release()
                    sleep = 0.001
                    continue
            time.sleep(sleep)
            sleep = min(sleep * 2, _MAX_SLEEP)

    def release(self) -> None:
        # Renamed first, so that a lock file another process has just created is never
        # the one removed.
        moved = f"{self._lock_file}{uuid.uuid4()}.rename"
        try:
            os.rename(self._lock_file, moved)
        except OSError:
            raise RuntimeError(f"the journal lock {self._lock_file} was not held") from None
        os.unlink(moved)


class JournalFileSymlinkLock(_LockFile):
    """A lock made by creating a symbolic link (``<file>.lock``), which works on NFSv2
    and later; the default lock of :class:`JournalFileBackend`, as in Optuna.

    Args:
        filepath: The journal file it protects.
        grace_period: Seconds after which a lock that has not changed is taken as
            abandoned (its process died) and removed; None never removes it. Default 30.

    Raises:
        InvalidArgumentError: ``grace_period`` is not a number > 0 or None.
    """

    def _try_create(self) -> None:
        os.symlink(self._target, self._lock_file)


class JournalFileOpenLock(_LockFile):
    """A lock made by creating ``<file>.lock`` with ``O_EXCL`` (NFSv3 and later on Linux
    2.6 and later; Windows, where symbolic links need a privilege).

    Args:
        filepath: The journal file it protects.
        grace_period: As for :class:`JournalFileSymlinkLock` (default 30 s).

    Raises:
        InvalidArgumentError: ``grace_period`` is not a number > 0 or None.
    """

    def _try_create(self) -> None:
        os.close(os.open(self._lock_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY))


def _check_journal(path: str) -> None:
    """Refuses a file that is not a journal, before anything is appended to it: a SQLite
    database or any other file given as a journal's path was written into and broken.

    A journal is empty or holds a record (a JSON object with an ``op_code``); a line that
    is not one is skipped on reading, with a warning, wherever it is (NUL bytes a crash
    left included). So a non-empty file is refused when none of its first lines is a
    record (up to 1,000 lines or 16 MB are read; a journal's first record comes first)."""
    read = 0
    with open(path, "rb") as f:
        head = f.read(64)
        if not head.strip(b" \t\r\n\0"):
            f.seek(0)
            if not f.read(1 << 20).strip(b" \t\r\n\0"):
                return  # empty, or blank
        f.seek(0)
        for n, line in enumerate(f):
            if line.strip() and _is_record(line):
                return
            read += len(line)
            if n >= 1000 or read >= 1 << 24:
                break
    hint = (
        f" (a SQLite database: use sqlite:///{path})" if head.startswith(b"SQLite format 3") else ""
    )
    raise InvalidArgumentError(
        f"file_path {path!r} is not a journal file{hint}; it was left unchanged"
    )


def _is_record(line: bytes) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return isinstance(record, dict) and "op_code" in record


class JournalFileBackend(BaseJournalBackend):
    """A journal kept in one file, one JSON record a line, for
    :class:`~ferrotune.storages.JournalStorage`: processes on one machine, or on many
    machines that share a network file system (where SQLite's locking is unreliable).

    Every append is written under the lock and synced to disk (``fsync``) before the
    lock is released; a reader reads only the bytes added since its last read. A line a
    process left unfinished when it died is cut off by the next append. The file format
    and the lock file are Optuna's, so a journal written by Optuna can be read and
    continued, and Optuna can read
    ferrotune's (see :class:`~ferrotune.storages.JournalStorage` for what Optuna
    ignores).

    Args:
        file_path: The journal file; created (empty) when it does not exist. A file
            that is not a journal (binary, such as a SQLite database, or text without
            one journal record) is refused and left unchanged.
        lock_obj: The lock between processes: a :class:`JournalFileSymlinkLock` (the
            default, on ``file_path``) or a :class:`JournalFileOpenLock`.

    Raises:
        InvalidArgumentError: ``file_path`` is not a path, or names a file that is not a
            journal.

    Example:
        >>> from ferrotune.storages import JournalStorage
        >>> from ferrotune.storages.journal import JournalFileBackend
        >>> storage = JournalStorage(JournalFileBackend("./journal.log"))  # doctest: +SKIP
    """

    def __init__(self, file_path: str, lock_obj: BaseJournalFileLock | None = None) -> None:
        if not isinstance(file_path, (str, os.PathLike)):
            raise InvalidArgumentError(f"file_path must be a path, got {type(file_path).__name__}")
        self._file_path = os.fspath(file_path)
        self._lock = lock_obj if lock_obj is not None else JournalFileSymlinkLock(self._file_path)
        with open(self._file_path, "ab"):
            pass  # created if it does not exist
        _check_journal(self._file_path)
        # Byte offsets of record numbers where reads ended: the next read starts there.
        self._offsets: dict[int, int] = {0: 0}
        self._mutex = threading.RLock()
        self._held = 0

    @property
    def file_path(self) -> str:
        """The journal file."""
        return self._file_path

    def __getstate__(self) -> dict[str, Any]:
        return {"file_path": self._file_path, "lock": self._lock}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["file_path"], state["lock"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"JournalFileBackend({self._file_path!r})"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Holds the file's lock (re-entrant within the thread that holds it)."""
        with self._mutex:
            if self._held == 0:
                self._lock.acquire()
            self._held += 1
            try:
                yield
            finally:
                self._held -= 1
                if self._held == 0:
                    self._lock.release()

    def read_logs(self, log_number_from: int) -> Iterator[dict[str, Any]]:
        with self._mutex:
            start = max((n for n in self._offsets if n <= log_number_from), default=0)
            offset = self._offsets[start]
        with open(self._file_path, "rb") as f:
            f.seek(offset)
            data = f.read()
        end = data.rfind(b"\n") + 1  # a line being written (no newline yet) waits
        number = start
        pos = 0
        out: list[dict[str, Any]] = []
        while pos < end:
            nl = data.index(b"\n", pos)
            line = data[pos:nl]
            pos = nl + 1
            if number >= log_number_from:
                try:
                    record = json.loads(line)
                    if not isinstance(record, dict):
                        raise ValueError("not a JSON object")
                except ValueError as e:
                    record = {"op_code": UNREADABLE_OP, "error": f"{e}: {line[:60]!r}"}
                out.append(record)
            number += 1
        with self._mutex:
            self._offsets[number] = offset + end
            if len(self._offsets) > 64:
                # Only the latest positions are read from again.
                for n in sorted(self._offsets)[1:-16]:
                    del self._offsets[n]
        return iter(out)

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        if not logs:
            return
        text = "".join(json.dumps(log, separators=(",", ":")) + "\n" for log in logs)
        with self.locked(), open(self._file_path, "ab+") as f:
            f.seek(0, os.SEEK_END)
            if f.tell() > 0:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    # A line left unfinished by a process that died while it held the
                    # lock: no reader has taken it (readers stop at the last newline), so
                    # it is cut off here, and Optuna's reader, which refuses a bad line
                    # followed by others, still reads the file.
                    f.truncate(_last_newline_end(f))
            f.write(text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())


def _last_newline_end(f: BinaryIO) -> int:
    """The offset just after the last newline of the open file ``f`` (0 when none)."""
    pos = int(f.seek(0, os.SEEK_END))
    while pos > 0:
        step = min(pos, 65536)
        f.seek(pos - step)
        chunk: bytes = f.read(step)
        i = chunk.rfind(b"\n")
        if i >= 0:
            return pos - step + i + 1
        pos -= step
    return 0
