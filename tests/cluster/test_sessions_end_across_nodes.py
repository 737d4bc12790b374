"""A session that ends on one node closes its sockets on every node at once."""

from __future__ import annotations

import re

import pytest

from tests.chat.lifecycle import assert_ended, assert_open, disable, logout, post_token, staff_id
from tests.cluster.conftest import Cluster
from tests.cluster.nodes import willow
from tests.cluster.talk import pair
from tests.wsclient import staff, visitor

pytestmark = pytest.mark.cluster


async def test_quick_exit_on_a_closes_her_sockets_on_a_and_b(cluster: Cluster) -> None:
    talk = await pair(cluster.a, cluster.b)
    on_b, _ = await visitor(cluster.b, talk.token)
    assert await post_token(cluster.a, "/api/visitor/exit", talk.token) == 204
    await assert_ended(talk.her, on_b)
    await talk.adviser.receive("ended", conversation_id=talk.conversation_id)
    await assert_open(talk.adviser)
    await talk.adviser.close()


async def test_forget_on_b_closes_her_sockets_on_a_and_b(cluster: Cluster) -> None:
    talk = await pair(cluster.a, cluster.b)
    on_b, _ = await visitor(cluster.b, talk.token)
    assert await post_token(cluster.b, "/api/visitor/forget", talk.token) == 204
    await assert_ended(talk.her, on_b)
    await talk.adviser.receive("ended", conversation_id=talk.conversation_id)
    await talk.adviser.close()


async def test_logout_on_a_closes_that_login_on_a_and_b(cluster: Cluster) -> None:
    username, password = await cluster.a.add_staff("adviser")
    login = await cluster.a.login(username, password)
    on_a, on_b = await staff(cluster.a, login), await staff(cluster.b, login)
    # The same adviser logged in elsewhere keeps that login.
    still_there = await staff(cluster.b, await cluster.b.login(username, password))
    assert await logout(cluster.a, login) == 204
    await assert_ended(on_a, on_b)
    await assert_open(still_there)
    await still_there.close()


async def test_disabling_on_a_closes_the_account_on_a_and_b(cluster: Cluster) -> None:
    admin = await cluster.a.staff_session("admin")
    username, password = await cluster.a.add_staff("adviser")
    on_a = await staff(cluster.a, await cluster.a.login(username, password))
    on_b = await staff(cluster.b, await cluster.b.login(username, password))
    assert await disable(cluster.a, admin, await staff_id(cluster.a, admin, username)) == 200
    await assert_ended(on_a, on_b)


async def test_willow_staff_disable_closes_the_account_on_every_node(cluster: Cluster) -> None:
    username, password = await cluster.a.add_staff("mentor")
    on_a = await staff(cluster.a, await cluster.a.login(username, password))
    on_b = await staff(cluster.b, await cluster.b.login(username, password))
    out = willow(["staff", "disable", "--note", "left the service", username], cluster.config.env())
    assert "disabled" in out
    await assert_ended(on_a, on_b)


async def test_changing_a_password_on_a_closes_her_other_logins_on_a_and_b(
    cluster: Cluster,
) -> None:
    username, password = await cluster.a.add_staff("adviser")
    here = await cluster.a.login(username, password)
    elsewhere = await cluster.b.login(username, password)
    other_on_a, other_on_b = await staff(cluster.a, elsewhere), await staff(cluster.b, elsewhere)
    this_one = await staff(cluster.b, here)
    change = {"current_password": password, "new_password": "brisk-meadow-copper-73"}
    async with cluster.a.http(cookies={"willow_staff": here.cookie}) as http:
        response = await http.post("/api/staff/password", json=change, headers=here.headers)
    assert response.status_code == 204
    await assert_ended(other_on_a, other_on_b)
    # The login that changed the password stays, with its socket on the other node.
    await assert_open(this_one)
    await this_one.close()


async def test_a_reset_password_closes_every_login_on_a_and_b(cluster: Cluster) -> None:
    username, password = await cluster.a.add_staff("adviser")
    login = await cluster.a.login(username, password)
    on_a, on_b = await staff(cluster.a, login), await staff(cluster.b, login)
    out = willow(["staff", "reset-password", username], cluster.config.env())
    found = re.search(r"valid 24 hours\): (\S+)", out)
    assert found, out
    code = found.group(1)
    body = {"username": username, "reset_code": code, "new_password": "quiet-harbour-violet-19"}
    async with cluster.b.http() as http:
        assert (await http.post("/api/staff/password/reset", json=body)).status_code == 204
    await assert_ended(on_a, on_b)
