"""``factmlp capacity --scheduler`` against a real ``dask scheduler`` and two ``dask worker`` processes.

The scheduler binds a free port on 127.0.0.1 (``--port 0``) and writes its
address to a scheduler file; two single-threaded workers join it.  Every wait
is bounded, and every process is stopped in ``finally`` (its own process
group, by id).  The sweep's rows must equal a serial run's, timing columns
aside.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("distributed")

from factmlp.sweep import TIMING_COLUMNS  # noqa: E402

GRID = [
    "--families",
    "spherical,tied",
    "--d",
    "4,6",
    "--alpha",
    "1/2",
    "--methods",
    "hebbian,encdec",
    "--seeds",
    "1",
    "--no-progress",
    "--json",
]
START_TIMEOUT = 60.0


def _env() -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["DASK_DISTRIBUTED__WORKER__DAEMON"] = "False"
    return env


def _spawn(args: list[str], log) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dask", *args], stdout=log, stderr=subprocess.STDOUT, env=_env(), start_new_session=True
    )


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in reversed(procs):  # workers first, then the scheduler
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in reversed(procs):
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


def _address(scheduler_file, proc: subprocess.Popen, log_path) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"dask scheduler exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        if scheduler_file.exists():
            try:
                return json.loads(scheduler_file.read_text())["address"]
            except (ValueError, KeyError):
                pass  # half-written
        time.sleep(0.2)
    pytest.fail(f"dask scheduler did not start within {START_TIMEOUT} s: {log_path.read_text()[-2000:]}")


def _rows(path) -> list[dict]:
    with open(path, newline="") as fh:
        return [{k: v for k, v in r.items() if k not in TIMING_COLUMNS} for r in csv.DictReader(fh)]


def _capacity(out, *extra: str) -> dict:
    res = subprocess.run(
        [sys.executable, "-m", "factmlp", "capacity", *GRID, "--out", str(out), *extra],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=180,
    )
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_capacity_on_a_real_scheduler_and_two_workers_matches_serial(tmp_path):
    from dask.distributed import Client, get_task_stream

    sched_file = tmp_path / "scheduler.json"
    log_path = tmp_path / "dask.log"
    procs: list[subprocess.Popen] = []
    with open(log_path, "wb") as log:
        try:
            procs.append(
                _spawn(
                    [
                        "scheduler",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        "0",
                        "--no-dashboard",
                        "--scheduler-file",
                        str(sched_file),
                    ],
                    log,
                )
            )
            address = _address(sched_file, procs[0], log_path)
            assert address.startswith("tcp://127.0.0.1:")
            for i in range(2):
                procs.append(
                    _spawn(
                        [
                            "worker",
                            address,
                            "--nthreads",
                            "1",
                            "--no-nanny",
                            "--no-dashboard",
                            "--host",
                            "127.0.0.1",
                            "--name",
                            f"w{i}",
                            "--local-directory",
                            str(tmp_path / f"w{i}"),
                        ],
                        log,
                    )
                )
            with Client(address, timeout="20s") as client:
                client.wait_for_workers(2, timeout=START_TIMEOUT)
                assert len(client.scheduler_info()["workers"]) == 2
                with get_task_stream(client) as ts:
                    dist = _capacity(tmp_path / "dist", "--scheduler", address)
                workers = {w: info["name"] for w, info in client.scheduler_info()["workers"].items()}
                ran_on = {workers.get(t["worker"]) for t in ts.data}
            assert len(ts.data) >= 8 and ran_on <= {"w0", "w1"}
        finally:
            _stop(procs)
    assert all(p.poll() is not None for p in procs)
    serial = _capacity(tmp_path / "serial")
    assert dist["runs"] == serial["runs"] == 8 and dist["errors"] == 0 and dist["ok"] == serial["ok"]
    d_rows, s_rows = _rows(tmp_path / "dist" / "results.csv"), _rows(tmp_path / "serial" / "results.csv")
    assert len(d_rows) == 8 and d_rows == s_rows
    assert all(r["h_star"] for r in s_rows)
