"""Locks: one sweep per folder, one process per job, released however a process ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clustersim.results.locks import FolderBusyError, job_lock, lock_sweep
from clustersim.results.sweep_folder import job_file_stem, read_failures, read_statuses
from tests.test_sweep_jobs import FakeModel, run

HOLD = """
import sys, time
from clustersim.results.locks import {what}
lock = {call}
print("held", flush=True)
time.sleep(120)
"""


def holder(what: str, call: str) -> subprocess.Popen:
    """A separate process that takes a lock and keeps it until killed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD.format(what=what, call=call)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_sweep_into_a_folder_in_use_stops_naming_the_first(tmp_path):
    proc = holder("lock_sweep", f"lock_sweep({str(tmp_path)!r})")
    try:
        with pytest.raises(FolderBusyError, match=f"in use by another sweep: process {proc.pid}"):
            lock_sweep(tmp_path)
        t0 = time.monotonic()
        with pytest.raises(FolderBusyError, match=r"waited 1 s"):
            lock_sweep(tmp_path, wait=1)
        assert time.monotonic() - t0 >= 1
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # the kernel released the lock of the killed process: no stale lock
    lock = lock_sweep(tmp_path)
    assert lock.holder()["pid"] == os.getpid()
    lock.release()


def test_a_waiting_sweep_goes_on_when_the_first_one_ends(tmp_path):
    proc = holder("lock_sweep", f"lock_sweep({str(tmp_path)!r})")
    subprocess.Popen(["sh", "-c", f"sleep 1; kill {proc.pid}"])
    lock = lock_sweep(tmp_path, wait=30)
    assert lock.held
    lock.release()
    proc.wait()


def test_a_job_run_elsewhere_is_left_to_that_process_without_a_failure(tmp_path, capsys):
    stem = job_file_stem("seed=1")
    proc = holder("job_lock", f"job_lock({str(tmp_path)!r}, {stem!r}); lock.try_acquire()")
    model = FakeModel()
    try:
        out = run(tmp_path, 1, model)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert out["status"] == "busy"
    assert model.calls == []  # it did not run twice
    assert read_failures(tmp_path) == {}
    assert read_statuses(tmp_path) == {"seed=1": "busy"}
    assert f"process {proc.pid}" in capsys.readouterr().err
    out = run(tmp_path, 1, model)  # the holder is gone: the job runs now
    assert model.calls == [1] and read_statuses(tmp_path) == {"seed=1": "done"}
    assert not job_lock(tmp_path, stem).holder()  # released, and its note cleared


def test_a_lock_held_in_this_process_is_not_taken_twice(tmp_path):
    first = lock_sweep(Path(tmp_path))
    try:
        with pytest.raises(FolderBusyError):
            lock_sweep(tmp_path)  # flock: another open file, even in the same process
    finally:
        first.release()
