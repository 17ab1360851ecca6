"""The dashboard's web application (Starlette): a static page and a JSON API under /api/."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ferrotune.dashboard._data import FIGURES, Reader, UnknownStudyError
from ferrotune.storages import BaseStorage

_STATIC = Path(__file__).with_name("static")


def browser_json(value: Any, in_figure: bool = False) -> Any:
    """``value`` with every infinite or NaN float replaced, since a browser's
    ``JSON.parse`` (and Starlette's encoder) refuse them: by null inside a plotly figure
    (a gap, as plotly draws a missing point), else by the text ``"inf"``, ``"-inf"`` or
    ``"nan"``, which the page shows as it is (a trial of value inf is not one without a
    value)."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return None if in_figure else ("nan" if math.isnan(value) else str(value))
    if isinstance(value, dict):
        return {k: browser_json(v, in_figure) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [browser_json(v, in_figure) for v in value]
    return value


#: Most trials one request returns; the page asks again from where it stopped.
MAX_LIMIT = 5000
_MAX_INT = 2**31 - 1
#: The names a loopback dashboard answers to: a page of another site that rebinds its own
#: name to 127.0.0.1 (DNS rebinding) sends its own name as Host and gets a 400.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
#: The header every write request carries: a form or a plain link of another site cannot
#: send it, and a script of another site needs a CORS preflight that the dashboard refuses.
WRITE_HEADER = "X-Ferrotune-Write"


def _plotly_js() -> Path:
    """plotly.js as the installed plotly package ships it (no CDN: the page works offline)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _int_query(request: Any, name: str, default: int, high: int) -> int:
    """A query parameter as an int in [0, high]; anything else is a 400."""
    from starlette.exceptions import HTTPException

    text = request.query_params.get(name)
    if text is None:
        return default
    if len(text) > 12 or not text.isdigit():
        raise HTTPException(400, f"{name} must be a whole number from 0 to {high}")
    value = int(text)
    if value > high:
        raise HTTPException(400, f"{name} must be a whole number from 0 to {high}")
    return value


def _study_id(request: Any) -> int:
    from starlette.exceptions import HTTPException

    study_id: int = request.path_params["study_id"]
    if study_id > _MAX_INT:
        raise HTTPException(404, f"no study with id {study_id}")
    return study_id


def create_app(
    storage: BaseStorage,
    *,
    allow_writes: bool = False,
    allowed_hosts: Sequence[str] | None = LOOPBACK_HOSTS,
) -> Any:
    """The dashboard as an ASGI application (run it with any ASGI server, e.g. uvicorn).

    Args:
        storage: The storage whose studies it shows.
        allow_writes: Accept the two requests that change the storage: ``DELETE
            /api/studies/{id}`` (delete a study) and ``POST
            /api/studies/{id}/trials/{number}/fail`` (mark a RUNNING trial FAIL), each with
            the header ``X-Ferrotune-Write: 1``. Without it (the default) they answer 403
            and the dashboard only reads.
        allowed_hosts: The Host names it answers (default: this machine's loopback names);
            None answers any.
    """
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    reader = Reader(storage)

    def index(request: Request) -> Response:
        return FileResponse(_STATIC / "index.html", headers={"Cache-Control": "no-store"})

    def plotly_js(request: Request) -> Response:
        return FileResponse(_plotly_js(), media_type="text/javascript")

    def favicon(request: Request) -> Response:
        return Response(status_code=204)

    def config(request: Request) -> Response:
        return JSONResponse({"allow_writes": allow_writes, "max_limit": MAX_LIMIT})

    def studies(request: Request) -> Response:
        return JSONResponse(browser_json(reader.studies()))

    def summary(request: Request) -> Response:
        return JSONResponse(browser_json(reader.summary(_study_id(request))))

    def trials(request: Request) -> Response:
        offset = _int_query(request, "offset", 0, _MAX_INT)
        limit = _int_query(request, "limit", MAX_LIMIT, MAX_LIMIT)
        return JSONResponse(browser_json(reader.trials(_study_id(request), offset, limit)))

    def figure(request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind not in FIGURES:
            raise HTTPException(404, f"no figure {kind[:40]!r}; figures: {', '.join(FIGURES)}")
        return JSONResponse(browser_json(reader.figure(_study_id(request), kind), in_figure=True))

    def _writes(request: Request) -> None:
        if not allow_writes:
            raise HTTPException(403, "the dashboard is read-only (start it with --allow-writes)")
        if request.headers.get(WRITE_HEADER) != "1":
            raise HTTPException(403, f"a write request needs the header {WRITE_HEADER}: 1")

    def delete_study(request: Request) -> Response:
        _writes(request)
        reader.delete_study(_study_id(request))
        return JSONResponse({"deleted": request.path_params["study_id"]})

    def fail_trial(request: Request) -> Response:
        _writes(request)
        number = request.path_params["number"]
        if number > _MAX_INT:
            raise HTTPException(404, f"no trial {number}")
        reader.fail_trial(_study_id(request), number)
        return JSONResponse({"failed": number})

    async def not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": str(exc)}, status_code=404)

    async def bad_request(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": " ".join(str(exc).split())[:300]}, status_code=400)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    from ferrotune.exceptions import FerrotuneError

    sid = "/api/studies/{study_id:int}"
    routes = [
        Route("/", index),
        Route("/favicon.ico", favicon),
        Route("/static/plotly.min.js", plotly_js),
        Mount("/static", StaticFiles(directory=_STATIC), name="static"),
        Route("/api/config", config),
        Route("/api/studies", studies),
        Route(sid, summary),
        Route(sid, delete_study, methods=["DELETE"]),
        Route(sid + "/trials", trials),
        Route(sid + "/trials/{number:int}/fail", fail_trial, methods=["POST"]),
        Route(sid + "/figures/{kind:str}", figure),
    ]
    handlers: dict[Any, Any] = {
        UnknownStudyError: not_found,
        FerrotuneError: bad_request,
        HTTPException: http_error,
    }
    middleware = []
    if allowed_hosts is not None:
        from starlette.middleware import Middleware
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)))
    return Starlette(routes=routes, exception_handlers=handlers, middleware=middleware)


def run(
    storage: BaseStorage,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    allow_writes: bool = False,
    log_level: str = "warning",
) -> None:
    """Serves the dashboard until interrupted (uvicorn)."""
    import uvicorn

    # Bound to loopback: answer only loopback names. Bound wider: the caller chose to be
    # reachable under whatever name the network gives this machine.
    loopback = host in LOOPBACK_HOSTS or host.startswith("127.")
    hosts = (*LOOPBACK_HOSTS, host) if loopback else None
    uvicorn.run(
        create_app(storage, allow_writes=allow_writes, allowed_hosts=hosts),
        host=host,
        port=port,
        log_level=log_level,
        # No reload, one worker: the page polls, one process answers.
        access_log=bool(os.environ.get("FERROTUNE_DASHBOARD_ACCESS_LOG")),
    )
