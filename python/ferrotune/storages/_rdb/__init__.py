"""Relational-database storage (SQLAlchemy 2): SQLite and PostgreSQL."""

from ferrotune.storages._rdb._storage import RDBStorage

__all__ = ["RDBStorage"]
