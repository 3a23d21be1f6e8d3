"""`backchannel run` as a child process, for the daemon tests: its health server on a
port of its own, its output in a log file."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from conftest import ROOT
from receivers import free_port


class DaemonProcess:
    def __init__(self, env: dict[str, str], sources: Path, log: Path, *args: str,
                 websub: bool = False) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"  # also WebSub's callbacks, when on
        self.log_path = log
        self.output = log.open("w")
        extra = {"BACKCHANNEL_WEBSUB_CALLBACK_URL": self.base} if websub else {}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "backchannel", "run", "--sources", str(sources), *args],
            env={**env, "BACKCHANNEL_HEALTH_PORT": str(self.port), **extra}, cwd=ROOT,
            stdout=self.output, stderr=subprocess.STDOUT)

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}",
                                        timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return 0, ""

    def metric(self, name: str, **labels: str) -> float:
        _, text = self.get("/metrics")
        want = ",".join(f'{k}="{v}"' for k, v in labels.items())
        pattern = rf"^{re.escape(name)}(?:\{{{re.escape(want)}\}})? ([0-9.e+]+)$" if want \
            else rf"^{re.escape(name)}(?:\{{[^}}]*\}})? ([0-9.e+]+)$"
        return sum(float(m) for m in re.findall(pattern, text, re.MULTILINE))

    def passes(self) -> float:
        return self.metric("backchannel_pass_duration_seconds_count")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40) -> tuple[int, float]:
        started = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self.output.close()
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self.output.close()
