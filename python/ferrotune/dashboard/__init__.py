"""A live web dashboard of a storage's studies (``ferrotune dashboard --storage URL``).

A page that lists the studies and, for the one selected, shows the trials table (sortable,
filterable), the optimisation history, the intermediate values, the parallel coordinates,
the parameter importances and the Pareto front, refreshed as workers add trials. It reads
a JSON API under ``/api/`` and draws with plotly.js served from the installed ``plotly``
package, so it works offline. It is read-only unless started with ``allow_writes``.

Needs ``pip install 'ferrotune[dashboard]'`` (Starlette, uvicorn and plotly).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["create_app", "run"]


def _missing(e: ImportError) -> ImportError:
    from ferrotune.exceptions import MissingDependencyError

    return MissingDependencyError(
        f"the dashboard needs Starlette, uvicorn and plotly ({e}): "
        "pip install 'ferrotune[dashboard]'"
    )


def _check_dependencies() -> None:
    try:
        import plotly  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        raise _missing(e) from e


def create_app(
    storage: Any,
    *,
    allow_writes: bool = False,
    allowed_hosts: Sequence[str] | None = ("127.0.0.1", "localhost", "::1"),
) -> Any:
    """The dashboard of ``storage`` (a storage object or URL) as an ASGI application.

    Args:
        storage: A storage object or URL.
        allow_writes: Let requests delete a study and mark a RUNNING trial FAIL.
        allowed_hosts: The Host names it answers (default: loopback only); None: any.
    """
    from ferrotune.dashboard import _app
    from ferrotune.storages import get_storage

    _check_dependencies()
    return _app.create_app(
        get_storage(storage), allow_writes=allow_writes, allowed_hosts=allowed_hosts
    )


def run(
    storage: Any, host: str = "127.0.0.1", port: int = 8080, *, allow_writes: bool = False
) -> None:
    """Serves the dashboard of ``storage`` at ``http://host:port/`` until interrupted."""
    from ferrotune.dashboard import _app
    from ferrotune.storages import get_storage

    _check_dependencies()
    _app.run(get_storage(storage), host, port, allow_writes=allow_writes)
