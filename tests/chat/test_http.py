"""HTTP surface: security headers, health, page config, and bad input on the visitor endpoints."""

from __future__ import annotations

from tests.wsclient import Server, visitor


async def test_every_response_carries_the_security_headers(server: Server) -> None:
    async with server.http() as http:
        for path in ("/", "/staff", "/healthz", "/api/config", "/api/staff/me"):
            headers = (await http.get(path)).headers
            csp = headers["content-security-policy"]
            assert "default-src 'none'" in csp and "script-src 'self'" in csp and "http" not in csp
            assert headers["referrer-policy"] == "no-referrer"
            assert headers["x-frame-options"] == "DENY"
            assert "set-cookie" not in headers or path == "/api/staff/login"


async def test_health_and_readiness(server: Server) -> None:
    async with server.http() as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        ready = await http.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {
            "ready": True,
            "database": True,
            "broker": True,
        }


async def test_page_config_names_the_neutral_exit_site(server: Server) -> None:
    async with server.http() as http:
        config = (await http.get("/api/config")).json()
    assert config["exit_url"] == "https://www.bbc.co.uk/weather"


async def test_visitor_session_choices_are_validated(server: Server) -> None:
    async with server.http() as http:
        ok = await http.post(
            "/api/visitor/session",
            json={"language": "pl", "topic": "alcohol", "safe_to_talk": True},
        )
        assert ok.status_code == 201 and len(ok.json()["token"]) >= 40
        assert "set-cookie" not in ok.headers
        for bad in ({"language": "xx"}, {"topic": 3}, {"safe_to_talk": "maybe"}, {"name": "Ann"}):
            response = await http.post("/api/visitor/session", json=bad)
            assert response.status_code == 422, bad


async def test_quick_exit_refuses_a_malformed_body_and_keeps_her_session(server: Server) -> None:
    her, _token = await visitor(server)
    async with server.http() as http:
        for body in ("", "not json", '{"nothing": 1}', '{"token": ""}'):
            response = await http.post(
                "/api/visitor/exit", content=body, headers={"content-type": "text/plain"}
            )
            assert response.status_code == 400
        # An unknown token gets the same answer as a real one: nothing to learn from it.
        unknown = await http.post("/api/visitor/exit", content='{"token": "abc"}')
        assert unknown.status_code == 204
    await her.send({"type": "request_chat"})
    assert (await her.receive("queue"))["position"] == 1


async def test_queue_positions_follow_arrival_order(server: Server) -> None:
    first, _ = await visitor(server)
    second, _ = await visitor(server)
    await first.send({"type": "request_chat"})
    assert (await first.receive("queue"))["position"] == 1
    await second.send({"type": "request_chat"})
    assert (await second.receive("queue"))["position"] == 2
    await first.send({"type": "request_chat"})
    assert (await first.receive("error"))["code"] == "already_waiting"
