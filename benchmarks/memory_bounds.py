"""Peak memory of a run against its size: where ``clustersim.settings.limits`` gets its figures.

A run lays out every agent slot it will need at the start (the initial firms and talent,
then every month's candidate entrants and arrivals), so its memory grows with the number
of firm slots, the number of talent slots and the number of months. This script runs a
few worlds of different sizes, each in a fresh process (so that the peak is its own),
writes each run folder to a temporary directory as ``clustersim-run`` would, and fits

    peak resident memory = base + per_firm_slot * firm slots
                                + per_talent_slot * talent slots + per_month * months

by least squares. It prints each case and the fitted figures; ``clustersim.settings.limits``
keeps them (rounded up) to refuse runs that would not fit this machine before they start.

    .venv/bin/python benchmarks/memory_bounds.py            # about a minute on 2 cores
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

CASES = {
    "default": ["world=shanghai"],
    "scale 4": ["world=shanghai", "world.scale=4"],
    "4x arrivals": ["world=shanghai", "world.talent_arrivals.per_month=1680"],
    "10x entrants": ["world=shanghai", "world.firm_entrants.per_month=900"],
    "40 years": ["world=shanghai", "world.end=2059-12"],
    "toy": ["world=toy"],
}

CHILD = r"""
import json, resource, sys, tempfile
from pathlib import Path
overrides = json.loads(sys.argv[1])
import clustersim.api as cs
from clustersim.runner import simulate, write_run
scenario = cs.scenario(overrides + ["run.progress=false"])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
result = simulate(scenario)
with tempfile.TemporaryDirectory() as tmp:
    write_run(result, Path(tmp) / "run", overrides)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
m = result.model
print(json.dumps({"firm_slots": int(m.firms.n_slots), "talent_slots": int(m.talent.n_slots),
                  "months": int(m.n_months), "peak": peak, "before": before}))
"""


def measure(overrides: list[str]) -> dict[str, int]:
    """Peak resident memory (bytes) and slot counts of one run, in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(overrides)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    rows = {}
    for name, overrides in CASES.items():
        r = measure(overrides)
        rows[name] = r
        print(
            f"{name:13s} firm slots {r['firm_slots']:>8,d}  talent slots {r['talent_slots']:>9,d}"
            f"  months {r['months']:>4d}  peak {r['peak'] / 2**20:7.0f} MiB"
            f"  (after setup {r['before'] / 2**20:5.0f} MiB)",
            flush=True,
        )
    x = np.array([[1.0, r["firm_slots"], r["talent_slots"], r["months"]] for r in rows.values()])
    y = np.array([r["peak"] for r in rows.values()], dtype=float)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    base, per_firm, per_talent, per_month = coef
    print(
        f"\nfit: base {base / 2**20:.0f} MiB, {per_firm:.0f} B per firm slot, "
        f"{per_talent:.0f} B per talent slot, {per_month / 1024:.0f} KiB per month"
    )
    worst = max(abs(y - x @ coef) / y)
    print(f"largest relative error of the fit over the cases: {worst:.1%}")


if __name__ == "__main__":
    main()
