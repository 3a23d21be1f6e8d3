"""The distributed recipes: deploy/docker-compose.distributed.yml and
deploy/kubernetes/distributed/ parse, run one scheduler and scalable workers with the
right roles, probes, secrets and stop timeouts. Nothing is built or contacted."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "docker-compose.distributed.yml"
KUBERNETES = ROOT / "deploy" / "kubernetes" / "distributed"


def load(path: Path) -> list:
    yaml = pytest.importorskip("yaml")
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def compose() -> dict:
    (document,) = load(COMPOSE)
    return document


def manifests() -> dict[tuple[str, str], dict]:
    found = {}
    for path in sorted(KUBERNETES.glob("*.yaml")):
        for doc in load(path):
            if doc.get("kind") != "Kustomization":
                found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


def container(deployment: dict) -> dict:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def test_compose_runs_postgres_one_scheduler_and_replicated_workers():
    services = compose()["services"]
    assert set(services) == {"postgres", "scheduler", "worker"}
    assert services["scheduler"]["command"] == ["run", "--role", "scheduler"]
    assert services["scheduler"]["deploy"]["replicas"] == 1
    assert services["worker"]["command"] == ["run", "--role", "worker"]
    assert "replicas" in services["worker"]["deploy"]
    assert "ports" not in services["worker"]  # replicas cannot share a host port
    for name in ("scheduler", "worker"):
        service = services[name]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "@postgres:5432/" in service["environment"]["BACKCHANNEL_DATABASE_URL"]
        assert int(service["stop_grace_period"].rstrip("s")) > 30
        assert "/healthz" in " ".join(service["healthcheck"]["test"])


def test_compose_publishes_on_loopback_only_and_hard_codes_no_password():
    for service in compose()["services"].values():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:")
    text = COMPOSE.read_text()
    assert "${POSTGRES_PASSWORD:?" in text
    assert "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD" in text


def docker_compose_available() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "compose", "version"], capture_output=True,
                              timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def test_docker_compose_config_accepts_the_file():
    if not docker_compose_available():
        pytest.skip("`docker compose` is not installed: the file was checked as YAML only")
    result = subprocess.run(["docker", "compose", "-f", str(COMPOSE), "config", "-q"],
                            env={**os.environ, "POSTGRES_PASSWORD": "test-only-password"},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_kubernetes_scheduler_is_one_replica_recreated():
    scheduler = manifests()[("Deployment", "backchannel-scheduler")]
    assert scheduler["spec"]["replicas"] == 1
    assert scheduler["spec"]["strategy"]["type"] == "Recreate"
    assert container(scheduler)["args"] == ["run", "--role", "scheduler"]


def test_kubernetes_workers_scale_with_an_autoscaler():
    found = manifests()
    worker = found[("Deployment", "backchannel-worker")]
    assert container(worker)["args"] == ["run", "--role", "worker"]
    hpa = found[("HorizontalPodAutoscaler", "backchannel-worker")]
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "backchannel-worker")
    assert 1 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    assert container(worker)["resources"]["requests"]["cpu"]  # the HPA measures against it


def test_kubernetes_pods_probe_healthz_take_secrets_and_stop_in_time():
    for name in ("backchannel-scheduler", "backchannel-worker"):
        deployment = manifests()[("Deployment", name)]
        pod = deployment["spec"]["template"]["spec"]
        main = container(deployment)
        assert pod["terminationGracePeriodSeconds"] > 30
        for probe in ("readinessProbe", "livenessProbe"):
            assert main[probe]["httpGet"] == {"path": "/healthz", "port": 9108}
        env = {e["name"]: e for e in main["env"]}
        assert env["BACKCHANNEL_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == \
            "backchannel-database"
        assert env["BACKCHANNEL_HEALTH_HOST"]["value"] == "0.0.0.0"
        assert main["envFrom"] == [{"secretRef": {"name": "backchannel-alerts"}}]
        assert main["securityContext"]["readOnlyRootFilesystem"] is True
        assert pod["securityContext"]["runAsNonRoot"] is True


def test_kustomization_lists_every_manifest():
    (kustomization,) = load(KUBERNETES / "kustomization.yaml")
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}


def test_kubectl_kustomize_renders_the_folder():
    kubectl = shutil.which("kubectl")
    if not kubectl:
        pytest.skip("kubectl is not installed")
    result = subprocess.run([kubectl, "kustomize", str(KUBERNETES)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
