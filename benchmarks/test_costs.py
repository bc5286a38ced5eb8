"""What each test costs in CPU seconds, its own process's and its subprocesses'.

Wall time on a shared 2-core machine says little (it depends on what else runs); CPU
seconds say what a test costs wherever it runs. Many tests start command lines, notebook
kernels or worker processes, so the children's CPU counts too.

Record (a pytest plugin; works with xdist, each worker appends its own lines)::

    CLUSTERSIM_TEST_COSTS=/tmp/costs.jsonl .venv/bin/python -m pytest -p benchmarks.test_costs ...

Report the most expensive tests and files, and how evenly the workers were loaded::

    .venv/bin/python benchmarks/test_costs.py /tmp/costs.jsonl --top 30

Each line of the jsonl is one test: ``{"nodeid", "file", "wall", "cpu", "children",
"slow", "worker", "pid"}``. The setup of a fixture is charged to the first test that uses it (a
session-scoped fixture's cost shows up there, not spread over its users). Children count
while they run: the CPU of the processes still alive below this one is read from
``/proc`` before and after each test, and that of the ended ones from ``getrusage``. A
pool's worker kept alive between tasks (joblib's loky executor) is charged to the tests
it worked for, not to whichever test runs when it ends. A grandchild that outlives its
parent (and so is no longer below this process) is not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from collections import defaultdict
from pathlib import Path

import pytest

ENV = "CLUSTERSIM_TEST_COSTS"


TICK = os.sysconf("SC_CLK_TCK")


def _live_descendants_cpu(pid: int) -> float:
    """CPU seconds of the processes alive below ``pid``, with what their ended children used.

    From ``/proc/<pid>/task/*/children`` and each one's ``stat`` (utime, stime, cutime,
    cstime): a process that ends moves its CPU into its parent's ended-children figure,
    so each CPU second counts once, before and after.
    """
    total, todo = 0.0, [pid]
    while todo:
        parent = todo.pop()
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                kids = [int(k) for k in children.read_text().split()]
            except OSError:  # the thread or process has just ended
                continue
            for kid in kids:
                try:
                    stat = Path(f"/proc/{kid}/stat").read_text()
                except OSError:
                    continue
                fields = stat.rsplit(")", 1)[1].split()  # after the command name
                total += sum(int(f) for f in fields[11:15]) / TICK  # utime stime cutime cstime
                todo.append(kid)
    return total


def _cpu() -> tuple[float, float]:
    """CPU seconds of this process, and of its children: ended ones and those still alive."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    kids = ended.ru_utime + ended.ru_stime + _live_descendants_cpu(os.getpid())
    return me.ru_utime + me.ru_stime, kids


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """Charge a test with the CPU spent in its setup, call and teardown."""
    out = os.environ.get(ENV)
    if not out:
        yield
        return
    wall, (cpu, kids) = time.perf_counter(), _cpu()
    yield
    cpu2, kids2 = _cpu()
    row = {
        "nodeid": item.nodeid,
        "file": item.nodeid.split("::", 1)[0],
        "wall": round(time.perf_counter() - wall, 3),
        "cpu": round(cpu2 - cpu, 3),
        "children": round(kids2 - kids, 3),
        "slow": item.get_closest_marker("slow") is not None,
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
        "pid": os.getpid(),
    }
    with open(out, "a") as f:  # one short line per write: appends of xdist workers do not mix
        f.write(json.dumps(row) + "\n")


def _load(paths: list[Path]) -> list[dict]:
    rows = []
    for path in paths:
        rows += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return rows


def main() -> None:
    """Print the most expensive tests and files of cost files, and each worker's load."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("costs", nargs="+", type=Path, help="jsonl files written by the plugin")
    parser.add_argument("--top", type=int, default=25, help="how many tests to list")
    args = parser.parse_args()
    rows = _load(args.costs)
    total = lambda r: r["cpu"] + r["children"]  # noqa: E731
    files: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0, 0.0])
    for r in rows:
        f = files[r["file"]]
        f[0] += total(r)
        f[1] += r["children"]
        f[2] += r["wall"]
        f[3] += 1
        f[4] += total(r) if not r["slow"] else 0.0
    every = sum(total(r) for r in rows)
    fast = sum(total(r) for r in rows if not r["slow"])
    print(f"{len(rows)} tests: {every:,.1f} CPU-s in all, {fast:,.1f} of them not slow")
    print(f"\n{'CPU-s':>8} {'of kids':>8} {'wall':>7} {'slow':>4}  test")
    for r in sorted(rows, key=total, reverse=True)[: args.top]:
        slow = "yes" if r["slow"] else ""
        print(f"{total(r):8.1f} {r['children']:8.1f} {r['wall']:7.1f} {slow:>4}  {r['nodeid']}")
    print(f"\n{'CPU-s':>8} {'of kids':>8} {'wall':>7} {'tests':>5} {'fast CPU':>8}  file")
    for name, (cpu, kids, wall, n, fcpu) in sorted(files.items(), key=lambda kv: -kv[1][0]):
        print(f"{cpu:8.1f} {kids:8.1f} {wall:7.1f} {n:5d} {fcpu:8.1f}  {name}")
    # how evenly the xdist workers were loaded: a worker busy much longer than the others
    # is the suite's wall time (the longest modules should start first: tests/conftest.py)
    workers: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for r in rows:
        w = workers[r["worker"]]
        w[0] += total(r)
        w[1] += r["wall"]
        w[2] += 1
    print(f"\n{'CPU-s':>8} {'wall':>7} {'tests':>5}  worker (wall: its tests' own, summed)")
    for name, (cpu, wall, n) in sorted(workers.items()):
        print(f"{cpu:8.1f} {wall:7.1f} {n:5d}  {name}")


if __name__ == "__main__":
    main()
