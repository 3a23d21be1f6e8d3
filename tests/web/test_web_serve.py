"""`backchannel serve` as a user starts it: where it may listen, the token from the
environment or the configuration file, a busy port, and a clean stop."""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from conftest import ROOT

from backchannel.commands.serve import is_loopback, run, web_token
from core.config import load_settings
from web.guard import token_refusal

TOKEN = "serve-test-token-9f3a"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(host: str, port: int, database_url: str | None = None) -> int:
    """The command's handler in this process (the subprocess test below covers main())."""
    settings = load_settings({"BACKCHANNEL_DATABASE_URL": database_url or ""})
    return run(argparse.Namespace(host=host, port=port), settings)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org"])
def test_refuses_a_public_address_without_a_token(host, capsys, monkeypatch):
    monkeypatch.delenv("BACKCHANNEL_WEB_TOKEN", raising=False)
    assert serve(host, free_port()) == 2
    error = capsys.readouterr().err
    assert f"refusing to listen on {host} without a token" in error
    assert "BACKCHANNEL_WEB_TOKEN" in error


@pytest.mark.parametrize("token", ["Zq7", "Fifteen-chars15"])
def test_refuses_a_short_token_beyond_loopback(token, capsys, monkeypatch):
    monkeypatch.setenv("BACKCHANNEL_WEB_TOKEN", token)
    assert serve("0.0.0.0", free_port()) == 2
    error = capsys.readouterr().err
    assert f"with a token of {len(token)} characters: a token must have at least 16" in error
    assert token not in error  # the token itself is not shown
    assert token_refusal(token, loopback=True) is None  # on this machine only, it may do


def test_serves_with_the_token_and_never_prints_it(cli_env):
    port = free_port()
    env = {**cli_env, "BACKCHANNEL_WEB_TOKEN": TOKEN}
    server = subprocess.Popen([sys.executable, "-m", "backchannel", "serve", "--port",
                               str(port)], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stderr.read()
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)
        assert httpx.get(base + "/api/stories").status_code == 401
        headers = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.get(base + "/api/stories", headers=headers).json()["results"] == []
        assert httpx.get(base + "/login", params={"token": TOKEN}).status_code == 303
    finally:
        server.send_signal(signal.SIGTERM)  # as systemd and Kubernetes stop it
        out, err = server.communicate(timeout=30)
    assert server.returncode == 0
    assert f"http://127.0.0.1:{port}/" in err and "token required" in err
    assert "/login?token=***" in err  # the access log, redacted
    assert TOKEN not in out + err
    assert "stopped" in err


def test_a_busy_port_is_a_clear_error(database_url, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert serve("127.0.0.1", busy.getsockname()[1], database_url) == 1
    assert "cannot listen on 127.0.0.1:" in capsys.readouterr().err


def test_token_from_the_configuration_file(tmp_path):
    config = tmp_path / "backchannel.toml"
    config.write_text('web_token = "from-the-file"\n', encoding="utf-8")
    settings = load_settings({"BACKCHANNEL_CONFIG": str(config)})
    assert web_token(settings, {}) == "from-the-file"
    assert web_token(settings, {"BACKCHANNEL_WEB_TOKEN": "from-env"}) == "from-env"
    assert web_token(load_settings({}), {"BACKCHANNEL_WEB_TOKEN": " "}) is None


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.10", False), ("example.org", False)])
def test_what_counts_as_loopback(host, loopback):
    assert is_loopback(host) is loopback
