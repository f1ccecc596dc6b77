"""Memory of the gunicorn workers, read from /proc, and which torch build the app runs on."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
KIB = 1024


def read_children(pid: int) -> list[int]:
    """Direct child pids of a process (from every thread's children list)."""
    children: list[int] = []
    task_dir = PROC / str(pid) / "task"
    try:
        tasks = list(task_dir.iterdir())
    except FileNotFoundError:
        return []
    for task in tasks:
        try:
            children.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return sorted(set(children))


def read_cmdline(pid: int) -> str:
    """A process's command line, spaces between the arguments ("" once it has exited)."""
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def find_gunicorn_workers(root_pid: int) -> tuple[int | None, list[int]]:
    """(master pid, worker pids) of the gunicorn started under `root_pid` (the shell of the Procfile line).

    The master is the gunicorn process whose children are gunicorn processes without children of
    their own (the shell running the Procfile line also mentions gunicorn, but its child has children).
    """
    queue = [root_pid]
    while queue:
        pid = queue.pop(0)
        kids = read_children(pid)
        if ("gunicorn" in read_cmdline(pid) and kids and all("gunicorn" in read_cmdline(k) for k in kids)
                and not any(read_children(k) for k in kids)):
            return pid, kids
        queue.extend(kids)
    return None, []


def parse_status_kib(text: str, field: str) -> int | None:
    """A `field:  123 kB` value of /proc/<pid>/status (or smaps_rollup) text, in KiB."""
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def read_memory(pid: int) -> dict:
    """RSS, PSS and USS (private) of one process, in MB (10^6 bytes)."""
    status = (PROC / str(pid) / "status").read_text()
    result = {"pid": pid, "rss_mb": _mb(parse_status_kib(status, "VmRSS"))}
    try:
        rollup = (PROC / str(pid) / "smaps_rollup").read_text()
    except (FileNotFoundError, PermissionError):
        return result
    private = (parse_status_kib(rollup, "Private_Clean") or 0) + (parse_status_kib(rollup, "Private_Dirty") or 0)
    result["pss_mb"] = _mb(parse_status_kib(rollup, "Pss"))
    result["uss_mb"] = _mb(private)
    return result


def _mb(kib: int | None) -> float | None:
    return None if kib is None else kib * KIB / 1e6


def measure_workers(root_pid: int) -> dict:
    """Memory of the gunicorn master and each worker under `root_pid`."""
    master, workers = find_gunicorn_workers(root_pid)
    if master is None:
        raise RuntimeError(f"no gunicorn master with workers under pid {root_pid}")
    return {"master": read_memory(master), "workers": [read_memory(w) for w in workers]}


def read_cpu_seconds(pid: int, reaped_children: bool = False) -> float | None:
    """User + system CPU seconds of a process (or of its exited, reaped children); None once it is gone."""
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # After the command name, state is field 3 (index 0 here); utime, stime, cutime, cstime are fields 14-17.
    first = 13 if reaped_children else 11
    return (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK")


def measure_worker_cpu(root_pid: int) -> dict:
    """CPU seconds so far: {"workers": {pid: s}, "exited": s of workers the master has already reaped}."""
    master, workers = find_gunicorn_workers(root_pid)
    readings = {pid: read_cpu_seconds(pid) for pid in workers}
    exited = read_cpu_seconds(master, reaped_children=True) if master else None
    return {"workers": {pid: s for pid, s in readings.items() if s is not None}, "exited": exited or 0.0}


def describe_torch_build() -> dict:
    """Version and build of the installed torch: "CPU" or "CUDA <version>"."""
    import torch

    cuda = torch.version.cuda
    return {
        "version": torch.__version__,
        "build": f"CUDA {cuda}" if cuda else "CPU",
        "cuda_available": bool(torch.cuda.is_available()),
    }
