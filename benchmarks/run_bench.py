"""Speed and memory of one run: the default world and a 10x larger city.

Each case runs in a fresh process (so peak memory is its own), three times; the script
prints setup time, run time (best of three), agent-steps per second, the share of the
run spent recording outcomes, and peak resident memory. Compare ratios within one run of
this script: the machines are shared and noisy.

    .venv/bin/python benchmarks/run_bench.py            # default and 10x
    .venv/bin/python benchmarks/run_bench.py --cases default
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CASES = {
    "default": ["world=shanghai"],  # with the default policy, all_three
    "10x": ["world=shanghai", "world.scale=10"],
    "10x-none": ["world=shanghai", "world.scale=10", "policy=none"],
    "no-policy": ["world=shanghai", "policy=none"],
    "toy": ["world=toy"],
}

CHILD = r"""
import json, resource, sys, time
overrides = json.loads(sys.argv[1])
from hydra import compose, initialize_config_dir
from clustersim.paths import conf_dir
from clustersim.settings import load_scenario
from clustersim.model import ClusterModel
from clustersim.runner import build_incentives
import clustersim.metrics as metrics
with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
    scenario = load_scenario(compose("config", overrides=overrides))
base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
record_time = [0.0]
original = metrics.MonthlyRecorder.record
def timed(self, *a):
    t = time.perf_counter(); original(self, *a); record_time[0] += time.perf_counter() - t
metrics.MonthlyRecorder.record = timed
runs = []
for _ in range(3):
    record_time[0] = 0.0
    t0 = time.perf_counter()
    m = ClusterModel(scenario, build_incentives(scenario))
    t1 = time.perf_counter()
    m.run(); t2 = time.perf_counter()
    m.sync_faces(); t3 = time.perf_counter()  # every operating agent's mesa.Agent face
    runs.append({"setup": t1 - t0, "run": t2 - t1, "record": record_time[0], "faces": t3 - t2})
    agents = int(m.n_initial_firms + m.n_initial_talent + len(m.parks))
    del m
best = min(runs, key=lambda r: r["run"])
steps = scenario.world.end_month - scenario.world.start_month + 1
print(json.dumps({"agents": agents, "steps": steps, "best": best, "runs": [r["run"] for r in runs],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "base_rss_mb": base_rss / 1024}))
"""


def measure(overrides: list[str]) -> dict:
    """Run one case in a fresh interpreter and return its figures."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(overrides)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print a table of figures for the chosen cases."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", nargs="+", default=["default", "10x"], choices=list(CASES))
    args = parser.parse_args()
    header = (
        f"{'case':<10}{'agents':>9}{'steps':>7}{'setup s':>9}{'run s':>8}"
        f"{'M agent-steps/s':>17}{'recording':>11}{'faces s':>9}{'peak MiB':>10}"
    )
    print(header)
    print("-" * len(header))
    for case in args.cases:
        r = measure(CASES[case])
        best = r["best"]
        rate = r["agents"] * r["steps"] / best["run"] / 1e6
        print(
            f"{case:<10}{r['agents']:>9,}{r['steps']:>7}{best['setup']:>9.2f}{best['run']:>8.2f}"
            f"{rate:>17.2f}{best['record'] / best['run']:>11.0%}{best['faces']:>9.2f}"
            f"{r['peak_rss_mb']:>10.0f}"
        )
    print(
        "\nrun s: best of 3 runs in one process; recording: share of the run spent recording"
        " outcomes; faces s: making the mesa.Agent face of every agent operating at the end"
        " (done when someone looks at model.agents, not during a run); peak MiB: resident"
        " memory of the whole process (Python, Mesa, Hydra included)."
    )


if __name__ == "__main__":
    main()
