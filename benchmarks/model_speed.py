"""The model's own speed, as ratios: this tree against another tree, measured alternately.

What issue 12 asks of the model itself: the default world with all three plans, the 10x
city, and a run with a counterfactual against a run without. Each case is timed as
``clustersim.runner.simulate`` of a composed scenario (no imports, no composition, no run
folder: those are the sweep's overheads, ``benchmarks/sweep_bench.py``), in a fresh
interpreter per measurement, the two trees taking turns (A B A B ...) so that a shared,
loaded machine slows both alike. The figures are CPU seconds of the process (wall seconds
beside them) and the median over the rounds; compare the ratios, not the seconds.

    .venv/bin/python benchmarks/model_speed.py                        # this tree only
    .venv/bin/python benchmarks/model_speed.py --against /path/to/old/tree
    .venv/bin/python benchmarks/model_speed.py --cases default cf_instrument --rounds 5

``--against`` takes another checkout of the repository (its ``src/`` and ``conf/`` are
used with this tree's Python environment): e.g. ``git worktree add /tmp/old 35a50bb``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

#: case name -> (overrides, what it stands for)
CASES: dict[str, tuple[list[str], str]] = {
    "default": ([], "default world, all three plans"),
    "no_policy": (["policy=none"], "default world, no plan"),
    "cf_no_policy": (
        ["run.counterfactual=no_policy"],
        "all three plans + counterfactual without any plan",
    ),
    "cf_instrument": (
        ["run.counterfactual=huangpu_2024.compute_subsidy"],
        "all three plans + counterfactual without one instrument",
    ),
    "10x": (["world.scale=10"], "10x city, all three plans"),
    "plan": (["policy=huangpu_2024"], "default world, Huangpu's plan alone"),
    "cf_plan_no_policy": (
        ["policy=huangpu_2024", "run.counterfactual=no_policy"],
        "Huangpu's plan + counterfactual without any plan (a per-plan sweep's)",
    ),
}

#: each counterfactual case -> the case of the same run without its counterfactual
PLAIN_OF = {"cf_no_policy": "default", "cf_instrument": "default", "cf_plan_no_policy": "plan"}

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
overrides, repeats = json.loads(sys.argv[2]), int(sys.argv[3])
from hydra import compose, initialize_config_dir
from clustersim.paths import conf_dir
from clustersim.runner import simulate
from clustersim.settings import load_scenario
import clustersim
assert clustersim.__file__.startswith(sys.argv[1]), clustersim.__file__
with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
    scenario = load_scenario(compose("config", overrides=overrides))
    warm = load_scenario(compose("config", overrides=["world=toy"]))
simulate(warm)  # warm-up on the toy world: lazy imports, first-call caches
cpu, wall = [], []
for _ in range(repeats):
    c, w = time.process_time(), time.perf_counter()
    simulate(scenario)
    cpu.append(time.process_time() - c)
    wall.append(time.perf_counter() - w)
print(json.dumps({"cpu": min(cpu), "wall": min(wall)}))
"""


def measure(src: Path, overrides: list[str], repeats: int) -> dict[str, float]:
    """Best of ``repeats`` simulations of one case with the code of ``src``, in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(src), json.dumps(overrides), str(repeats)],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"{src} {overrides} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Time the chosen cases on this tree (and the other tree, alternately); print ratios."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--against", type=Path, help="another checkout to compare with (A)")
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per tree and case")
    parser.add_argument("--repeats", type=int, default=2, help="runs per process (best kept)")
    args = parser.parse_args()

    here = Path(__file__).resolve().parents[1] / "src"
    trees = {"B (this tree)": here}
    if args.against is not None:
        trees = {"A (against)": (args.against / "src").resolve(), **trees}
    figures: dict[tuple[str, str], list[dict[str, float]]] = {}
    for case in args.cases:
        overrides = CASES[case][0]
        repeats = 1 if case == "10x" else args.repeats
        for _ in range(args.rounds):
            for name, src in trees.items():
                figures.setdefault((name, case), []).append(measure(src, overrides, repeats))

    def med(name: str, case: str, key: str) -> float:
        return statistics.median(r[key] for r in figures[(name, case)])

    print(
        f"{'case':<15}"
        + "".join(f"{n:>22}" for n in trees)
        + ("   B/A cpu" if args.against else "")
    )
    for case in args.cases:
        cells = "".join(
            f"{med(n, case, 'cpu'):>10.3f} cpu {med(n, case, 'wall'):>6.2f} s" for n in trees
        )
        ratio = ""
        if args.against is not None:
            ratio = f"{med('B (this tree)', case, 'cpu') / med('A (against)', case, 'cpu'):>11.2f}"
        print(f"{case:<15}{cells}{ratio}   {CASES[case][1]}")
    for name in trees:
        for cf, plain in PLAIN_OF.items():
            if cf in args.cases and plain in args.cases:
                r = med(name, cf, "cpu") / med(name, plain, "cpu")
                print(f"{name}: {cf} / {plain} = {r:.2f} (a run with its counterfactual)")
    print(
        f"\nmedian over {args.rounds} fresh processes per tree and case of the best of "
        f"{args.repeats} runs (10x: 1); cpu = process CPU seconds of simulate(), s = wall."
    )


if __name__ == "__main__":
    main()
