"""Admins edit what the service configures, live: service hours, retention, branding, rooms
and schedules, the helpline directory, outcome codes and canned replies.

Each is an edited document (chat/core/documents.py) registered by the feature that owns it;
these routes only let an admin read, save and reset them. A body is checked by the same code
that checks its data file at start, so a refused one gets the same field-named error and
nothing already saved changes.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Path, Request

from chat.core import documents
from chat.core.documents import MAX_BODY_BYTES, DocumentError
from chat.core.models import Staff
from chat.helpline.staff import require_role, services_of

router = APIRouter(prefix="/api/admin/documents", tags=["admin"])
Admin = Annotated[Staff, Depends(require_role("admin"))]
KindName = Annotated[str, Path(max_length=32, pattern=r"^[a-z_]+$")]


def _known(request: Request, kind: str) -> None:
    if services_of(request).documents.kind(kind) is None:
        # Named from the list, never repeating what was sent.
        known = ", ".join(services_of(request).documents.names)
        raise HTTPException(404, f"no such kind; these can be edited: {known}")


@router.get("")
async def list_documents(request: Request, _admin: Admin) -> dict[str, Any]:
    """The kinds an admin may edit, and whether each is changed from the shipped default."""
    store = services_of(request).documents
    return {
        "documents": [{"kind": name, "edited": store.current(name).edited} for name in store.names]
    }


@router.get("/{kind}")
async def read_document(request: Request, kind: KindName, _admin: Admin) -> dict[str, Any]:
    """What is in use, the shipped default beside it, and who last saved it."""
    _known(request, kind)
    return services_of(request).documents.view(kind)


@router.put("/{kind}")
async def save_document(request: Request, kind: KindName, admin: Admin) -> dict[str, Any]:
    """Save a new version; it is checked as the data file is, or nothing changes."""
    _known(request, kind)
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise HTTPException(413, f"send at most {MAX_BODY_BYTES} bytes")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise HTTPException(400, "send the document as JSON") from None
    if not isinstance(body, dict | list):
        raise HTTPException(422, "send the document as a JSON object or list")
    services = services_of(request)
    try:
        await documents.save(services, kind, body, admin.id)
    except DocumentError as problem:
        raise HTTPException(422, str(problem)) from None
    return services.documents.view(kind)


@router.post("/{kind}/reset")
async def reset_document(request: Request, kind: KindName, admin: Admin) -> dict[str, Any]:
    """Back to the shipped default (the data file, or the setting's file), audited."""
    _known(request, kind)
    services = services_of(request)
    await documents.reset(services, kind, admin.id)
    return services.documents.view(kind)
