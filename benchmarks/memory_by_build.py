"""Worker memory of the Procfile's web line under a chosen Python environment (e.g. a CPU-only torch).

    python -m benchmarks.memory_by_build --venv path/to/venv [--requests 600]

Starts `web:` with that environment's gunicorn first on PATH, serves a warm-up mix (page loads and
API forwards of many distinct inputs, which fill each worker's cache and allocator), and prints the
RSS / PSS / private memory of the master and every worker with the torch build named. The full
benchmark (`python -m benchmarks.run`) measures the environment it runs in; this isolates the build.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from benchmarks.memory import measure_workers
from tests.live_server import start_process, stop_process, wait_for_http
from tests.redis_server import free_port


def describe_build(python: Path) -> str:
    """torch version and build of another interpreter, e.g. "2.13.0+cpu (CPU)"."""
    code = "import torch; print(torch.__version__, 'CUDA ' + torch.version.cuda if torch.version.cuda else 'CPU')"
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout.split(" ", 1)
    return f"{out[0]} ({out[1].strip()})"


def drive_load(base: str, count: int, seed: int = 0) -> int:
    """Send `count` mixed requests (8 at a time); returns how many answered 200."""
    rng = random.Random(seed)

    def one(i: int) -> int:
        if i % 10 == 0:
            return requests.get(f"{base}/{rng.choice(['', 'xor', 'mnist'])}", timeout=30).status_code
        if i % 3 == 0:
            body = {"input": [rng.random(), rng.random()]}
            return requests.post(f"{base}/api/models/xor/forward", json=body, timeout=30).status_code
        body = {"input": [round(rng.random(), 3) for _ in range(784)]}
        return requests.post(f"{base}/api/models/mnist/forward?checkpoint=c{i % 6}", json=body,
                             timeout=30).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        return sum(status == 200 for status in pool.map(one, range(count)))


def main(argv: list[str] | None = None) -> dict:
    """Measure and print worker memory for one environment."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, required=True, help="virtual environment holding the app")
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--out", type=Path, help="also write the report as JSON here")
    args = parser.parse_args(argv)
    bin_dir = args.venv.resolve() / "bin"
    port = free_port()
    env = {"PORT": str(port), "WEB_CONCURRENCY": "2", "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    log = Path(tempfile.mkdtemp(prefix="singularity-memory-")) / "web.log"
    process = start_process("web", env, log)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base}/healthz", process, timeout=120)
        warm = drive_load(base, 60)
        after_warmup = measure_workers(process.pid)
        ok = drive_load(base, args.requests, seed=1)
        after_load = measure_workers(process.pid)
    finally:
        stop_process(process)
    report = {"torch": describe_build(bin_dir / "python"), "requests_ok": warm + ok,
              "requests": 60 + args.requests, "after_warmup": after_warmup, "after_load": after_load}
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
