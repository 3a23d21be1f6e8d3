"""The deploy/ recipes: each one parses, says what a user relies on (ports, secrets, probes,
stop timeouts), and passes its own tool's offline check when that tool is installed.
Nothing here builds an image or touches the network."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
KUBERNETES = DEPLOY / "kubernetes"
SYSTEMD = DEPLOY / "systemd"
UNITS = ["backchannel.service", "backchannel-crawl.service", "backchannel-crawl.timer"]
VENV_BACKCHANNEL = "/opt/backchannel/.venv/bin/backchannel"

ALERT_VARIABLES = [
    "BACKCHANNEL_SMTP_URL",
    "BACKCHANNEL_EMAIL_FROM",
    "BACKCHANNEL_EMAIL_TO",
    "BACKCHANNEL_SLACK_WEBHOOK_URL",
    "BACKCHANNEL_WEBHOOK_URL",
]


def yaml_module():
    return pytest.importorskip(
        "yaml", reason="PyYAML is not installed: add pyyaml>=6 to the `test` extra"
    )


def load_yaml(path: Path) -> list:
    return [doc for doc in yaml_module().safe_load_all(path.read_text()) if doc is not None]


def compose() -> dict:
    (document,) = load_yaml(COMPOSE)
    return document


def manifests() -> dict[tuple[str, str], dict]:
    found = {}
    for path in sorted(KUBERNETES.glob("*.yaml")):
        for doc in load_yaml(path):
            if doc.get("kind") != "Kustomization":
                found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=120, **kwargs)


# --- YAML ------------------------------------------------------------------------------------

YAML_FILES = sorted([*DEPLOY.rglob("*.yml"), *DEPLOY.rglob("*.yaml")])


def test_the_recipes_are_all_there():
    names = {path.relative_to(DEPLOY).as_posix() for path in DEPLOY.rglob("*") if path.is_file()}
    expected = {
        "Dockerfile", "docker-compose.yml", "crontab", "README.md",
        *(f"systemd/{unit}" for unit in UNITS),
        *(f"kubernetes/{name}" for name in
          ("deployment.yaml", "secret.yaml", "service.yaml", "kustomization.yaml")),
    }
    assert expected <= names


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.relative_to(DEPLOY).as_posix())
def test_every_yaml_file_parses(path):
    documents = load_yaml(path)
    assert documents, f"{path} holds no YAML document"
    assert all(isinstance(doc, dict) for doc in documents)


# --- Docker Compose ----------------------------------------------------------------------------

def test_compose_has_postgres_backchannel_and_a_web_profile():
    services = compose()["services"]
    assert set(services) == {"postgres", "backchannel", "web"}
    assert services["postgres"]["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert any(str(v).startswith("postgres-data:") for v in services["postgres"]["volumes"])
    assert "postgres-data" in compose()["volumes"]
    assert "ports" not in services["postgres"], "PostgreSQL must not be published"

    daemon = services["backchannel"]
    assert daemon["command"] == ["run"]
    assert daemon["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert daemon["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert daemon["restart"] == "unless-stopped"
    assert "/healthz" in " ".join(daemon["healthcheck"]["test"])

    web = services["web"]
    assert web["profiles"] == ["web"]
    assert web["command"] == ["serve", "--host", "0.0.0.0", "--port", "8080"]
    assert web["image"] == daemon["image"]


def test_compose_passes_every_alert_setting_and_the_database_url():
    environment = compose()["services"]["backchannel"]["environment"]
    for name in ALERT_VARIABLES:
        assert environment[name] == f"${{{name}:-}}", name
    url = environment["BACKCHANNEL_DATABASE_URL"]
    assert url.startswith("postgresql://backchannel:${POSTGRES_PASSWORD")
    assert url.endswith("@postgres:5432/backchannel")


def test_compose_publishes_ports_on_loopback_only():
    published = 0
    for name, service in compose()["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} to the world"
            published += 1
    assert published == 2
    assert "127.0.0.1:9108:9108" in compose()["services"]["backchannel"]["ports"]
    assert "127.0.0.1:8080:8080" in compose()["services"]["web"]["ports"]


def test_compose_hard_codes_no_password():
    postgres = compose()["services"]["postgres"]["environment"]
    assert postgres["POSTGRES_PASSWORD"] == "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
    text = "\n".join(line for line in COMPOSE.read_text().splitlines()
                     if not line.lstrip().startswith("#"))
    # Every password in the file is the variable: nothing after `backchannel:` in a URL
    # and nothing after POSTGRES_PASSWORD: but a `${...}` reference.
    for match in re.finditer(r"postgresql://[^:]+:([^@]*)@", text):
        assert match.group(1).startswith("${POSTGRES_PASSWORD"), match.group(0)
    keys = re.findall(r"^\s*-?\s*(\w*PASSWORD\w*)\s*[:=]\s*(.*)$", text, re.MULTILINE)
    assert keys
    for key, value in keys:
        assert value.strip().strip("\"'").startswith("${"), f"{key}: {value}"


def docker_compose_available() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return run(["docker", "compose", "version"]).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def test_docker_compose_config_accepts_the_file():
    if not docker_compose_available():
        pytest.skip("`docker compose` is not installed: the compose file was checked as YAML only")
    environment = {**os.environ, "POSTGRES_PASSWORD": "test-only-password"}
    result = run(["docker", "compose", "-f", str(COMPOSE), "config", "-q"], env=environment)
    assert result.returncode == 0, result.stderr
    environment.pop("POSTGRES_PASSWORD")
    result = run(["docker", "compose", "-f", str(COMPOSE), "config", "-q"], env=environment)
    assert result.returncode != 0 and "set POSTGRES_PASSWORD" in result.stderr


# --- Kubernetes ------------------------------------------------------------------------------

def deployment() -> dict:
    return manifests()[("Deployment", "backchannel")]


def test_deployment_runs_exactly_one_crawler():
    spec = deployment()["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"]["type"] == "Recreate"
    (container,) = spec["template"]["spec"]["containers"]
    assert container["args"] == ["run"]


def test_deployment_probes_healthz_on_9108():
    (container,) = deployment()["spec"]["template"]["spec"]["containers"]
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": 9108}, probe
    assert {"name": "metrics", "containerPort": 9108} in container["ports"]
    env = {item["name"]: item for item in container["env"]}
    assert env["BACKCHANNEL_HEALTH_HOST"]["value"] == "0.0.0.0"


def test_deployment_takes_its_settings_from_the_secrets():
    (container,) = deployment()["spec"]["template"]["spec"]["containers"]
    assert container["envFrom"] == [{"secretRef": {"name": "backchannel-alerts"}}]
    env = {item["name"]: item for item in container["env"]}
    assert env["BACKCHANNEL_DATABASE_URL"]["valueFrom"] == {
        "secretKeyRef": {"name": "backchannel-database", "key": "url"}
    }
    secrets = manifests()
    assert "url" in secrets[("Secret", "backchannel-database")]["stringData"]
    alerts = secrets[("Secret", "backchannel-alerts")]["stringData"]
    assert set(alerts) <= set(ALERT_VARIABLES)
    assert {"BACKCHANNEL_SMTP_URL", "BACKCHANNEL_EMAIL_TO"} <= set(alerts)


def test_deployment_is_locked_down_and_stops_gracefully():
    pod = deployment()["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] >= 35  # the daemon takes up to 30 s
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind]), kind


def test_secrets_hold_placeholders_only():
    secrets = [doc for doc in load_yaml(KUBERNETES / "secret.yaml")]
    assert {doc["kind"] for doc in secrets} == {"Secret"}
    assert {doc["metadata"]["name"] for doc in secrets} == {
        "backchannel-alerts", "backchannel-database"}
    for secret in secrets:
        assert "data" not in secret, "base64 `data` would hide whether a value is real"
        for key, value in secret["stringData"].items():
            assert "CHANGE-ME" in value, f"{secret['metadata']['name']}/{key} is not a placeholder"
    assert secrets[0]["stringData"]["BACKCHANNEL_SMTP_URL"].startswith("smtp")


def test_service_exposes_metrics_for_prometheus():
    service = manifests()[("Service", "backchannel")]
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [
        {"name": "metrics", "port": 9108, "targetPort": "metrics", "protocol": "TCP"}]
    annotations = service["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == "9108"
    assert annotations["prometheus.io/path"] == "/metrics"
    labels = deployment()["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()


def test_kustomization_lists_every_manifest():
    (kustomization,) = load_yaml(KUBERNETES / "kustomization.yaml")
    listed = sorted(kustomization["resources"])
    on_disk = sorted(p.name for p in KUBERNETES.glob("*.yaml") if p.name != "kustomization.yaml")
    assert listed == on_disk


def test_kubectl_kustomize_renders_the_folder():
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed: the manifests were checked as YAML only")
    result = run(["kubectl", "kustomize", str(KUBERNETES)])
    assert result.returncode == 0, result.stderr
    kinds = [doc["kind"] for doc in yaml_module().safe_load_all(result.stdout) if doc]
    assert sorted(kinds) == ["Deployment", "Secret", "Secret", "Service"]


# --- systemd ---------------------------------------------------------------------------------

def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((SYSTEMD / name).read_text())
    return parser


def test_daemon_unit_runs_backchannel_run_and_stops_in_time():
    service = unit("backchannel.service")["Service"]
    assert service["ExecStart"] == f"{VENV_BACKCHANNEL} run"
    assert service["User"] == "backchannel"
    assert service["Restart"] == "on-failure"
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) >= 35  # the daemon takes up to 30 s after SIGTERM
    assert service["EnvironmentFile"] == "-/etc/backchannel/env"
    assert service["Environment"] == "BACKCHANNEL_HOME=/var/lib/backchannel"
    assert service["StateDirectory"] == "backchannel"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/backchannel"
    assert service["NoNewPrivileges"] == "true" and service["PrivateTmp"] == "true"
    assert unit("backchannel.service")["Install"]["WantedBy"] == "multi-user.target"


def test_crawl_unit_and_timer_run_a_pass_every_five_minutes():
    service = unit("backchannel-crawl.service")["Service"]
    assert service["Type"] == "oneshot"
    assert service["ExecStart"] == f"{VENV_BACKCHANNEL} crawl"
    assert service["EnvironmentFile"] == "-/etc/backchannel/env"
    timer = unit("backchannel-crawl.timer")["Timer"]
    assert timer["OnCalendar"] == "*:0/5"
    assert timer["Persistent"] == "true"
    assert timer["RandomizedDelaySec"] == "30"
    assert timer.get("Unit", "backchannel-crawl.service") == "backchannel-crawl.service"
    assert unit("backchannel-crawl.timer")["Install"]["WantedBy"] == "timers.target"


def test_systemd_analyze_verify_finds_nothing_wrong(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed: the units were checked with configparser")
    # The units name the venv's backchannel, which is not installed here: point them at an
    # executable that exists, so that every other complaint shows.
    stand_in = shutil.which("true")
    for name in UNITS:
        text = (SYSTEMD / name).read_text()
        (tmp_path / name).write_text(text.replace(VENV_BACKCHANNEL, stand_in))
    result = run(["systemd-analyze", "verify", *(str(tmp_path / name) for name in UNITS)],
                 cwd=tmp_path)
    complaints = (result.stdout + result.stderr).strip()
    assert result.returncode == 0 and not complaints, complaints


# --- Dockerfile ------------------------------------------------------------------------------

def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of every instruction, continuation lines joined."""
    instructions, pending = [], ""
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def last(instruction: str) -> str:
    values = [args for keyword, args in dockerfile_instructions() if keyword == instruction]
    assert values, f"the Dockerfile has no {instruction}"
    return values[-1]


def test_dockerfile_runs_backchannel_as_a_user_on_9108():
    assert dockerfile_instructions()[0][1].startswith("python:3.12-slim")
    assert last("FROM").startswith("python:3.12-slim")
    assert last("ENTRYPOINT") == '["backchannel"]'
    assert last("CMD") == '["run"]'
    user = last("USER").split(":")[0]
    assert user not in ("root", "0", "")
    assert "9108" in last("EXPOSE").split()
    assert last("VOLUME") == '["/var/lib/backchannel"]'
    environment = " ".join(args for keyword, args in dockerfile_instructions() if keyword == "ENV")
    assert "BACKCHANNEL_HOME=/var/lib/backchannel" in environment
    assert "BACKCHANNEL_HEALTH_HOST=0.0.0.0" in environment
    assert any(keyword == "RUN" and "pip install /src" in args
               for keyword, args in dockerfile_instructions())


def test_dockerfile_healthcheck_uses_python_not_curl():
    healthcheck = last("HEALTHCHECK")
    assert "urllib.request" in healthcheck and "/healthz" in healthcheck
    assert "127.0.0.1:" in healthcheck and "9108" in healthcheck
    assert "curl" not in healthcheck


def test_dockerfile_says_how_to_build_from_the_repository_root():
    head = (DEPLOY / "Dockerfile").read_text().split("FROM", 1)[0]
    assert re.search(r"^#\s+docker build -f deploy/Dockerfile( -t \S+)? \.$", head, re.MULTILINE)
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert {".git", "**/.venv", "tests"} <= set(ignored)


# --- crontab ---------------------------------------------------------------------------------

def test_crontab_is_one_line_every_five_minutes():
    lines = [line for line in (DEPLOY / "crontab").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert len(lines) == 1, lines
    fields = lines[0].split(None, 5)
    assert fields[:5] == ["*/5", "*", "*", "*", "*"]
    command = fields[5]
    assert re.search(r"/backchannel crawl\b", command)
    assert command.rstrip().endswith("| logger -t backchannel")
    assert "flock" not in command
    assert "%" not in command  # cron would turn it into a newline
