"""The deploy/ files agree with Willow: real settings, the nodes the proxy expects, no access logs.

These read the files as an operator would check them. tests/cluster also runs them where this
machine allows: nginx (test_proxy.py), the systemd unit (test_systemd_unit.py) and the image
(test_container.py); compose and Caddy are only read here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from chat.core.settings import Settings

pytestmark = pytest.mark.cluster

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NODES = ("willow-a", "willow-b")
_INTERPOLATION = re.compile(r"\$\{(\w+)(?::[?-]([^}]*))?\}")
SAMPLE = {
    "WILLOW_SECRET_KEY": "Zq8x7Tb2mK9pLwR4vN6cY1hJ3sD5fG8aQ0eU2iO4",
    "POSTGRES_PASSWORD": "pw",
    "WILLOW_DOMAIN": "chat.example.org",
}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def interpolate(value: str) -> str:
    """What compose makes of `${NAME:?message}` and `${NAME:-default}` with sample values."""
    return _INTERPOLATION.sub(lambda m: SAMPLE.get(m.group(1), m.group(2) or ""), value)


def node_environment(service: str) -> dict[str, str]:
    environment: dict[str, Any] = compose()["services"][service]["environment"]
    return {key: interpolate(str(value)) for key, value in environment.items()}


def setting_name(variable: str) -> str:
    return variable.removeprefix("WILLOW_").lower()


def test_every_compose_node_has_settings_willow_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    for service in NODES:
        environment = node_environment(service)
        unknown = [k for k in environment if setting_name(k) not in Settings.model_fields]
        assert unknown == [], f"{service}: not Willow settings: {unknown}"
        for key, value in environment.items():
            monkeypatch.setenv(key, value)
        settings = Settings()
        assert settings.env == "production"
        assert settings.uses_redis and not settings.uses_sqlite
        assert settings.allowed_origins == ["https://chat.example.org"]
        assert settings.secure_cookies


def test_both_nodes_share_one_secret_database_and_broker() -> None:
    shared = (
        "WILLOW_SECRET_KEY",
        "WILLOW_DATABASE_URL",
        "WILLOW_BROKER_URL",
        "WILLOW_BROKER_PREFIX",
    )
    a, b = (node_environment(service) for service in NODES)
    assert {k: a[k] for k in shared} == {k: b[k] for k in shared}
    # The key comes from the operator's .env, never from this file.
    raw = compose()["services"]["willow-a"]["environment"]["WILLOW_SECRET_KEY"]
    assert raw.startswith("${WILLOW_SECRET_KEY:?")


def test_nodes_start_after_one_migration_and_redis_keeps_nothing() -> None:
    services = compose()["services"]
    assert services["migrate"]["command"] == ["willow", "migrate"]
    for service in NODES:
        depends = services[service]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert services[service].get("command") is None  # the image's `willow run`
    assert services["redis"]["command"] == ["redis-server", "--save", "", "--appendonly", "no"]


def test_compose_nodes_run_read_only_without_privileges() -> None:
    services = compose()["services"]
    for service in (*NODES, "migrate"):
        node = services[service]
        assert node["read_only"] is True, service
        assert node["cap_drop"] == ["ALL"] and "no-new-privileges:true" in node["security_opt"]
        assert node["tmpfs"] == ["/tmp"]


def test_caddy_proxies_to_every_node_without_stickiness_or_access_log() -> None:
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    lines = [line.split("#", 1)[0].strip() for line in caddyfile.splitlines()]
    upstreams = next(line for line in lines if line.startswith("reverse_proxy")).split()[1:-1]
    assert upstreams == [f"{service}:8000" for service in NODES]
    assert "health_uri /readyz" in lines
    assert "@operator path /healthz /readyz /metrics" in lines
    assert "respond @operator 404" in lines
    assert not any(
        line.startswith("lb_policy") and line.split()[1] in ("ip_hash", "cookie", "header")
        for line in lines
    )
    # The global `log default` block is Caddy's own log; a `log` in the site is an access log.
    site = lines[lines.index("{$WILLOW_DOMAIN} {") :]
    assert [line for line in site if line.split()[:1] == ["log"]] == []
    # X-Forwarded-For is replaced by the address Caddy sees, never passed on from the browser.
    assert "header_up X-Forwarded-For {remote_host}" in lines
    for header in ("X-Real-IP", "Forwarded"):
        assert f"header_up -{header}" in lines
    proxy = compose()["services"]["proxy"]["networks"]["backend"]["ipv4_address"]
    for service in NODES:
        forwarded = node_environment(service)["WILLOW_FORWARDED_ALLOW_IPS"]
        assert json.loads(forwarded) == [proxy]
    assert "request>remote_ip delete" in lines and "request>client_ip delete" in lines


def test_nginx_upgrades_websockets_and_keeps_no_access_log() -> None:
    conf = (DEPLOY / "nginx.conf").read_text()
    lines = [line.split("#", 1)[0].strip() for line in conf.splitlines()]
    assert lines.count("access_log off;") == conf.count("server {")
    assert "proxy_set_header Upgrade $http_upgrade;" in lines
    assert "proxy_set_header Connection $willow_connection;" in lines
    assert "proxy_set_header Host $host;" in lines
    assert "ip_hash;" not in lines
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in lines
    unit = (DEPLOY / "willow@.service").read_text()
    assert 'Environment=WILLOW_FORWARDED_ALLOW_IPS=["127.0.0.1"]' in unit
    assert "location = /metrics { return 404; }" in lines


def test_systemd_unit_runs_one_node_per_port() -> None:
    unit = dict(
        line.split("=", 1)
        for line in (DEPLOY / "willow@.service").read_text().splitlines()
        if "=" in line and not line.startswith("#") and not line.startswith("Environment=")
    )
    assert unit["ExecStart"].endswith("/willow run")
    assert unit["User"] == "willow"
    text = (DEPLOY / "willow@.service").read_text()
    assert "Environment=WILLOW_PORT=%i" in text
    ports = re.findall(r"server 127\.0\.0\.1:(\d+)", (DEPLOY / "nginx.conf").read_text())
    assert ports == ["8001", "8002"]


def test_image_runs_willow_as_a_user_with_the_pages() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    stages = dockerfile.split("\nFROM ")
    final = stages[-1]
    assert final.startswith("python:3.11-slim")
    users = re.findall(r"^USER (\S+)", final, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert re.findall(r"^CMD (.+)$", final, re.MULTILINE)[-1] == '["willow", "run"]'
    frontend = re.search(r"WILLOW_FRONTEND_DIR=(\S+)", final)
    assert frontend is not None
    assert f"COPY frontend {frontend.group(1)}" in final


def test_example_settings_file_names_only_real_settings() -> None:
    names = re.findall(r"^#?\s*(WILLOW_\w+)=", (DEPLOY / "env.example").read_text(), re.MULTILINE)
    assert "WILLOW_SECRET_KEY" in names
    compose_only = {"WILLOW_DOMAIN"}
    unknown = [
        n for n in names if n not in compose_only and setting_name(n) not in Settings.model_fields
    ]
    assert unknown == []


def _metric_names(expression: str) -> set[str]:
    names = set(re.findall(r"\b(willow_[a-z_]+)", expression))
    for suffix in ("_bucket", "_total", "_count", "_sum"):
        names = {n.removesuffix(suffix) if n.endswith(suffix) else n for n in names}
    return names


def _served_names() -> set[str]:
    from chat.core.metrics import Metrics

    metrics = Metrics()
    metrics.count("willow_messages_stored", "stored", lambda: 0)
    return {family.name for family in metrics.registry.collect()}


def test_dashboard_and_alert_rules_ask_only_for_figures_willow_serves() -> None:
    served = _served_names()
    rules = yaml.safe_load((DEPLOY / "monitoring" / "willow-alerts.yml").read_text())
    expressions = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    names = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert {"WillowQueueWaitOverTarget", "WillowNoAdviserAvailable", "WillowErrorRate"} <= names
    assert "WillowNodeNotReady" in names
    dashboard = json.loads((DEPLOY / "monitoring" / "grafana-dashboard.json").read_text())
    expressions += [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    asked = set().union(*(_metric_names(e) for e in expressions))
    assert asked and asked <= served, asked - served


def test_the_proxies_drop_trickling_requests_and_idle_sockets() -> None:
    nginx = [
        line.split("#", 1)[0].strip() for line in (DEPLOY / "nginx.conf").read_text().splitlines()
    ]
    for line in (
        "client_header_timeout 10s;",
        "client_body_timeout 10s;",
        "proxy_read_timeout 60s;",
    ):
        assert line in nginx
    assert any(line.startswith("limit_conn willow_conn") for line in nginx)
    caddy = [line.strip() for line in (DEPLOY / "Caddyfile").read_text().splitlines()]
    assert "read_header 10s" in caddy and "idle 60s" in caddy


def test_every_install_comes_from_the_lock_with_hashes() -> None:
    build = (DEPLOY / "Dockerfile").read_text().split("\nFROM ")[1]
    assert "pip wheel --require-hashes --wheel-dir /wheels -r requirements.lock" in build
    assert "!requirements.lock" in (DEPLOY / "Dockerfile.dockerignore").read_text()
    makefile = (DEPLOY.parent / "Makefile").read_text()
    assert "--require-hashes -r $(DEV_LOCK)" in makefile
    for lock in ("requirements.lock", "requirements-dev.lock"):
        pins = [line for line in (DEPLOY.parent / lock).read_text().splitlines() if "==" in line]
        assert pins and all(line.endswith("\\") for line in pins), lock
    assert "bleach" not in (DEPLOY.parent / "requirements.lock").read_text()


def test_the_wheel_the_image_installs_carries_every_data_file_and_migration() -> None:
    """The image runs from the installed wheel, not the checkout: a data file or a migration
    that no package-data pattern names is missing there (canned.yaml once was)."""
    import tomllib

    root = DEPLOY.parent
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    needed = {
        path
        for package in ("chat", "moderation", "peers")
        for path in (root / package).rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        # Every file but code and notes for people: data of any kind (YAML, word lists, the
        # learned head's arrays) and every migration.
        and (path.suffix not in (".py", ".pyc", ".md") or "migrations" in path.parts)
    }
    covered = {
        path
        for package, globs in patterns.items()
        for pattern in globs
        for path in (root / package).glob(pattern)
    }
    assert sorted(str(p.relative_to(root)) for p in needed - covered) == []
