"""An admin's live edit saved on one node is used by the other without a restart: the
helpline's hours (a visitor on B is told it is closed) and a directory entry (found on B)."""

from __future__ import annotations

import pytest

from tests.cluster.conftest import Cluster
from tests.wsclient import Client, Server, visitor

pytestmark = pytest.mark.cluster

CLOSED_NOW = {"timezone": "Europe/London", "weekly": {}, "special": {"2000-01-01": ["10:00-12:00"]}}
HARBOUR = {
    "id": "harbour-line",
    "name": "Harbour Line",
    "contacts": [{"kind": "phone", "value": "0800 123 456"}],
    "nations": ["uk"],
    "categories": ["emotional_support"],
}


async def _asks(server: Server) -> tuple[Client, dict[str, object]]:
    her, _ = await visitor(server)
    await her.send({"type": "request_chat"})
    while True:
        answer = await her.receive_any(timeout=10)
        if answer["type"] in ("error", "queue"):
            return her, answer


async def test_hours_and_directory_saved_on_a_are_used_on_b(cluster: Cluster) -> None:
    admin = await cluster.a.staff_session("admin")
    on_b = await cluster.b.staff_session("admin")
    a = cluster.a.http(cookies={"willow_staff": admin.cookie}, headers=admin.headers)
    b = cluster.b.http(cookies={"willow_staff": on_b.cookie}, headers=on_b.headers)
    async with a, b:
        try:
            saved = await a.put("/api/admin/documents/hours", json=CLOSED_NOW)
            assert saved.status_code == 200, saved.text
            her, answer = await _asks(cluster.b)
            assert answer["type"] == "error" and answer["code"] == "helpline_closed"
            await her.close()

            shipped = (await a.get("/api/admin/documents/directory")).json()["body"]
            edited = {"helplines": [*shipped["helplines"], HARBOUR]}
            assert (await a.put("/api/admin/documents/directory", json=edited)).status_code == 200
            found = (await b.get("/api/directory", params={"q": "harbour"})).json()
            assert [item["name"] for item in found] == ["Harbour Line"]
            assert (await b.get("/api/admin/documents/directory")).json()["edited"] is True
        finally:
            # The nodes live for the whole run: leave them with the shipped defaults.
            assert (await a.post("/api/admin/documents/hours/reset")).status_code == 200
            assert (await a.post("/api/admin/documents/directory/reset")).status_code == 200
        her, answer = await _asks(cluster.b)
        assert answer["type"] == "queue"
        await her.close()
        assert (await b.get("/api/directory", params={"q": "harbour"})).json() == []
