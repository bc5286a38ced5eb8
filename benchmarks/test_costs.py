"""What each test costs in CPU seconds, its own process's and its subprocesses'.

Wall time on a shared 2-core machine says little (it depends on what else runs); CPU
seconds say what a test costs wherever it runs. Many tests start command lines, notebook
kernels or worker processes, so the children's CPU counts too.

Record (a pytest plugin; works with xdist, each worker appends its own lines)::

    CLUSTERSIM_TEST_COSTS=/tmp/costs.jsonl .venv/bin/python -m pytest -p benchmarks.test_costs ...

Report the most expensive tests and files::

    .venv/bin/python benchmarks/test_costs.py /tmp/costs.jsonl --top 30

Each line of the jsonl is one test: ``{"nodeid", "file", "wall", "cpu", "children",
"slow", "worker", "pid"}``. The setup of a fixture is charged to the first test that uses it (a
session-scoped fixture's cost shows up there, not spread over its users). Children count
once they have ended and been waited for: a pool's worker kept alive between tasks
(joblib's loky executor) counts in whichever test runs when it ends, and a grandchild
that outlives its parent is not counted.
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


def _cpu() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


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
    """Print the most expensive tests and files of one or more cost files."""
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


if __name__ == "__main__":
    main()
