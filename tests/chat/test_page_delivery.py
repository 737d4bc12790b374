"""How the visitor pages are delivered: compressed, and the socket untouched by it."""

from __future__ import annotations

from tests.wsclient import Server, visitor


async def test_pages_and_scripts_arrive_compressed_when_the_browser_accepts_it(
    server: Server,
) -> None:
    async with server.http() as http:
        for path in ("/", "/static/shared/socket.js", "/static/shared/base.css", "/api/config"):
            packed = await http.get(path, headers={"accept-encoding": "gzip"})
            plain = await http.get(path, headers={"accept-encoding": "identity"})
            assert packed.headers.get("content-encoding") == "gzip", path
            assert "content-encoding" not in plain.headers, path
            assert packed.content == plain.content, "the client sees the same bytes"
            assert packed.num_bytes_downloaded < plain.num_bytes_downloaded / 2, path


async def test_the_chat_socket_still_works_behind_compression(server: Server) -> None:
    her, _ = await visitor(server)
    await her.send({"type": "request_chat"})
    assert (await her.receive("queue"))["position"] == 1
    await her.close()
