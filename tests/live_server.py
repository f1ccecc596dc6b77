"""Start the Procfile's processes exactly as a platform would (`sh -c`, PORT set) and stop them again."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import requests

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def read_procfile(kind: str) -> str:
    """The command of one Procfile process type (`web`, `worker`)."""
    for line in (PROJECT_ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == kind:
            return command.strip()
    raise KeyError(f"Procfile has no {kind}: line")


def start_process(kind: str, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Run a Procfile process in its own process group, output to `log_path`."""
    full_env = {**os.environ, **env}
    log = open(log_path, "wb")
    return subprocess.Popen(
        ["sh", "-c", read_procfile(kind)],
        cwd=PROJECT_ROOT,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 60.0) -> float:
    """Seconds until `url` answers 200; fails early if the process died."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def stop_process(process: subprocess.Popen) -> None:
    """Stop a process we started, with its whole group (gunicorn master and workers)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
