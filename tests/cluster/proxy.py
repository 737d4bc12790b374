"""nginx from the distribution, run with the very deploy/nginx.conf in front of test nodes.

The file is changed only where a test host must differ from a real one: the upstream ports
(the nodes' free ports), the listening ports (free loopback ports, no IPv6), the certificate
paths (a self-signed certificate made here), the error log path, and, on nginx older than
1.25.1, `http2 on;` written as the `listen … http2` flag the file's own comment gives.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cluster.nodes import REPO_ROOT, free_port
from tests.services import REQUIRE

SHIPPED = REPO_ROOT / "deploy" / "nginx.conf"
SERVER_NAME = "chat.example.org"
_VERSION = re.compile(r"nginx/(\d+)\.(\d+)\.(\d+)")


def nginx_or_skip() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        message = "nginx not installed (apt-get install nginx; .ci/run installs it)"
        if REQUIRE:
            pytest.fail(message)
        pytest.skip(message)
    return found


def nginx_version(binary: str) -> tuple[int, int, int]:
    out = subprocess.run([binary, "-v"], capture_output=True, text=True, check=True).stderr
    found = _VERSION.search(out)
    assert found is not None, out
    return int(found.group(1)), int(found.group(2)), int(found.group(3))


def self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", f"/CN={SERVER_NAME}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def templated(
    shipped: str, upstreams: list[int], http_port: int, https_port: int, paths: dict[str, Path],
    version: tuple[int, int, int],
) -> str:  # fmt: skip
    """The shipped file with this host's ports and paths; every other line as shipped."""
    text = shipped
    for shipped_port, port in zip(("8001", "8002"), upstreams, strict=True):
        text = text.replace(f"server 127.0.0.1:{shipped_port} ", f"server 127.0.0.1:{port} ")
    text = re.sub(r"^\s*listen \[::\]:\d+.*$\n", "", text, flags=re.MULTILINE)
    text = text.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    http2_flag = "" if version >= (1, 25, 1) else " http2"
    text = text.replace("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl{http2_flag};")
    if version < (1, 25, 1):
        text = re.sub(r"^\s*http2 on;.*$\n", "", text, flags=re.MULTILINE)
    text = text.replace(f"/etc/letsencrypt/live/{SERVER_NAME}/fullchain.pem", str(paths["cert"]))
    text = text.replace(f"/etc/letsencrypt/live/{SERVER_NAME}/privkey.pem", str(paths["key"]))
    return text.replace("/var/log/nginx/willow-error.log", str(paths["error_log"]))


MAIN = """
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/main-error.log warn;
{user}
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/willow.conf;
}}
"""


@dataclass
class Proxy:
    process: subprocess.Popen[bytes]
    https_port: int
    http_port: int
    prefix: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def error_log(self) -> str:
        path = self.prefix / "main-error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start_proxy(upstreams: list[int], prefix: Path) -> Proxy:
    binary = nginx_or_skip()
    cert, key = self_signed(prefix)
    http_port, https_port = free_port(), free_port()
    paths = {"cert": cert, "key": key, "error_log": prefix / "willow-error.log"}
    conf = templated(
        SHIPPED.read_text(), upstreams, http_port, https_port, paths, nginx_version(binary)
    )
    (prefix / "willow.conf").write_text(conf)
    # As root, nginx's workers would switch to a user that cannot write here.
    user = "user root;" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(MAIN.format(prefix=prefix, user=user))
    checked = subprocess.run(
        [binary, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    proxy = Proxy(process, https_port, http_port, prefix)
    _wait_listening(proxy)
    return proxy


def _wait_listening(proxy: Proxy, timeout: float = 10.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proxy.process.poll() is not None:
            raise RuntimeError(f"nginx exited:\n{proxy.error_log()}")
        try:
            with socket.create_connection(("127.0.0.1", proxy.https_port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen within {timeout}s:\n{proxy.error_log()}")
