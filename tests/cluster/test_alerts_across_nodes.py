"""A supervisor alert kept in the database is seen by a supervisor who logs in later on any
node, and acknowledging it on one node takes it off the panel of a supervisor on the other."""

from __future__ import annotations

import pytest

from tests.cluster.conftest import Cluster
from tests.cluster.talk import pair
from tests.wsclient import staff

pytestmark = pytest.mark.cluster

IMMINENT = "I've taken all my pills, I want to die tonight"


async def test_an_alert_acknowledged_on_a_leaves_the_supervisor_on_b(cluster: Cluster) -> None:
    talk = await pair(cluster.a, cluster.b)
    await talk.her.send(
        {
            "type": "message",
            "conversation_id": talk.conversation_id,
            "client_id": "d1",
            "body": IMMINENT,
        }
    )
    await talk.adviser.receive("flag")

    # Both supervisors log in after the message, one on each node.
    on_a, on_b = (
        await cluster.a.staff_session("supervisor"),
        await cluster.b.staff_session("supervisor"),
    )
    watching_b = await staff(cluster.b, on_b)
    async with cluster.b.http(cookies={"willow_staff": on_b.cookie}) as http:
        (alert,) = (await http.get("/api/alerts")).json()
    assert alert["kind"] == "risk" and alert["conversation_id"] == talk.conversation_id

    async with cluster.a.http(cookies={"willow_staff": on_a.cookie}) as http:
        done = await http.post(f"/api/alerts/{alert['alert_id']}/acknowledge", headers=on_a.headers)
    assert done.status_code == 204
    gone = await watching_b.receive("alert_acknowledged")
    assert gone["alert_id"] == alert["alert_id"] and gone["by"] == on_a.display_name
    async with cluster.b.http(cookies={"willow_staff": on_b.cookie}) as http:
        assert (await http.get("/api/alerts")).json() == []
    for client in (talk.her, talk.adviser, watching_b):
        await client.close()
