"""What every HTTP route shares: strict request bodies and errors that repeat nothing sent.

A 422 names where the request was wrong and what was expected, never the value sent: the
value may be a password, a note about her, or anything else that must not travel back or
into a proxy's error page.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from chat.core.outages import OUTAGE_ERRORS, OUTAGES, dependency_of
from chat.core.protocol import MAX_STORED_INT

log = logging.getLogger("willow.http")

# A larger id in a path is a 422, not a database driver's overflow.
PathId = Annotated[int, Path(ge=1, le=MAX_STORED_INT)]


class StrictBody(BaseModel):
    """A JSON body: unknown fields refused, no `"1"` taken for 1 or `"true"` for true."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _plain(error: dict[str, Any]) -> dict[str, Any]:
    # Only where and what kind: `input` and `ctx` can carry what was sent.
    location = [part for part in error.get("loc", ()) if isinstance(part, str | int)]
    return {"loc": location, "msg": str(error.get("msg", "")), "type": str(error.get("type", ""))}


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": [_plain(dict(e)) for e in errors]}, status_code=422)


async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
    """The database or broker is away: 503 and a line in the outage count, not a traceback
    per request. Anything else is raised again, to be logged as the bug it is."""
    if dependency_of(exc) is None:
        raise exc
    OUTAGES.report(exc, log, "request failed")
    return JSONResponse(
        {"detail": "temporarily unavailable; try again shortly"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    for failure in OUTAGE_ERRORS:
        app.add_exception_handler(failure, _unavailable)
