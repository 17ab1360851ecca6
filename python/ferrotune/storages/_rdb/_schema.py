"""The database schema of :class:`~ferrotune.storages.RDBStorage`, with its versions.

Every table name starts with ``ft_`` so that a database can also hold other tools' tables.
The schema version lives in ``ft_version``; :data:`MIGRATIONS` lists the ordered steps
that take an empty database (version 0) to the current version.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "metadata", "tables"]

metadata = sa.MetaData()

version_table = sa.Table(
    "ft_version",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)

#: The longest study name, parameter name or attribute key the tables hold.
NAME_LENGTH = 512


def check_name(what: str, name: str) -> None:
    """Refuses a name the database cannot store (PostgreSQL raises a bare DataError on
    one too long or holding NUL; SQLite would take it, and a copy to PostgreSQL fail)."""
    if len(name) > NAME_LENGTH or "\x00" in name:
        from ferrotune.exceptions import InvalidArgumentError

        why = "holds a NUL character" if "\x00" in name else f"is {len(name)} characters long"
        raise InvalidArgumentError(
            f"{what} {name[:40]!r}... {why}: a database storage holds names of at most "
            f"{NAME_LENGTH} characters, without NUL"
        )


studies = sa.Table(
    "ft_studies",
    metadata,
    sa.Column("study_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(512), nullable=False, unique=True),
    # JSON list of StudyDirection values.
    sa.Column("directions", sa.Text, nullable=False),
    # The number the next trial of the study gets (numbers are gap-free).
    sa.Column("next_number", sa.Integer, nullable=False, default=0),
    # Bumped by every change to a trial of the study; trials carry the value of their
    # last change, so a worker reads only what changed since its last look.
    sa.Column("seq", sa.BigInteger, nullable=False, default=0),
    # SQLite's AUTOINCREMENT: the id of a deleted study is never given to a new one (a
    # Study object of the deleted study must not write into the new one).
    sqlite_autoincrement=True,
)

study_attrs = sa.Table(
    "ft_study_attrs",
    metadata,
    sa.Column("study_id", sa.Integer, sa.ForeignKey("ft_studies.study_id"), primary_key=True),
    sa.Column("kind", sa.String(8), primary_key=True),  # "user" or "system"
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("value_json", sa.Text, nullable=False),
)

study_choices = sa.Table(
    "ft_study_choices",
    metadata,
    sa.Column("study_id", sa.Integer, sa.ForeignKey("ft_studies.study_id"), primary_key=True),
    sa.Column("name", sa.String(512), primary_key=True),
    sa.Column("distribution_json", sa.Text, nullable=False),
)

trials = sa.Table(
    "ft_trials",
    metadata,
    sa.Column("trial_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("study_id", sa.Integer, sa.ForeignKey("ft_studies.study_id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("state", sa.Integer, nullable=False),
    sa.Column("values_json", sa.Text, nullable=True),
    sa.Column("constraints_json", sa.Text, nullable=True),
    # Seconds since the epoch (NULL: not yet).
    sa.Column("datetime_start", sa.Float(precision=53), nullable=True),
    sa.Column("datetime_complete", sa.Float(precision=53), nullable=True),
    sa.Column("heartbeat", sa.Float(precision=53), nullable=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("study_id", "number", name="ft_trials_study_number"),
    sa.Index("ft_trials_study_seq", "study_id", "seq"),
    sa.Index("ft_trials_study_state", "study_id", "state"),
    # As for studies: a deleted trial's id is never reused.
    sqlite_autoincrement=True,
)

trial_params = sa.Table(
    "ft_trial_params",
    metadata,
    sa.Column("trial_id", sa.Integer, sa.ForeignKey("ft_trials.trial_id"), primary_key=True),
    sa.Column("name", sa.String(512), primary_key=True),
    sa.Column("distribution_json", sa.Text, nullable=False),
    sa.Column("value", sa.Float(precision=53), nullable=False),  # the internal value
)

trial_intermediate = sa.Table(
    "ft_trial_intermediate",
    metadata,
    sa.Column("trial_id", sa.Integer, sa.ForeignKey("ft_trials.trial_id"), primary_key=True),
    sa.Column("step", sa.Integer, primary_key=True),
    sa.Column("value", sa.Float(precision=53), nullable=True),  # NULL stands for NaN
    # Studies with several objectives: a JSON list of the values of objectives 1, 2, ...
    # (null for NaN); objective 0 is `value`. NULL for a single objective. (Version 2.)
    sa.Column("rest_json", sa.Text, nullable=True),
)

trial_attrs = sa.Table(
    "ft_trial_attrs",
    metadata,
    sa.Column("trial_id", sa.Integer, sa.ForeignKey("ft_trials.trial_id"), primary_key=True),
    sa.Column("kind", sa.String(8), primary_key=True),  # "user" or "system"
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("value_json", sa.Text, nullable=False),
)

tables = {
    t.name: t
    for t in (
        studies,
        study_attrs,
        study_choices,
        trials,
        trial_params,
        trial_intermediate,
        trial_attrs,
    )
}


def _v1(conn: Connection) -> None:
    """Version 1: studies, their attributes and choices, trials and their records."""
    metadata.create_all(conn, tables=list(tables.values()))


def _v2(conn: Connection) -> None:
    """Version 2: ``ft_trial_intermediate.rest_json``, the intermediate values of
    objectives 1, 2, ... of a study with several objectives. (A database that version 1
    of this module created already has it: the column is added where it is missing.)"""
    have = {c["name"] for c in sa.inspect(conn).get_columns(trial_intermediate.name)}
    if "rest_json" not in have:
        conn.execute(sa.text(f"ALTER TABLE {trial_intermediate.name} ADD COLUMN rest_json TEXT"))


#: Ordered migration steps: step ``i`` takes the schema from version ``i`` to ``i + 1``.
MIGRATIONS: list[Callable[[Connection], None]] = [_v1, _v2]
SCHEMA_VERSION = len(MIGRATIONS)
