"""The model's own speed, as ratios: this tree against another tree, measured alternately.

What issue 12 asks of the model itself: the default world with all three plans, the 10x
city, and a run with a counterfactual against a run without. Each case is timed as
``clustersim.runner.simulate`` of a composed scenario (no imports, no composition, no run
folder: those are the sweep's overheads, ``benchmarks/sweep_bench.py``), the two
trees taking turns (A B A B ...) so that a shared, loaded machine slows both alike. The
figures are CPU seconds of the process (wall seconds beside them) and the median over the
rounds; compare the ratios, not the seconds.

Two ways to take turns:

- fresh interpreters (the default): one process per measurement. Each tree starts as a user's
  run would, but on a noisy host a single case can swing by a third between processes;
- ``--in-process``: both trees imported into this one process, runs alternated one by one.
  The other tree's package is copied under another name (``clustersim_base``) so the two can
  live side by side; each composes its own ``conf/``. Steadier (one interpreter, one heap,
  the same warm caches), and the better figure for a ratio between trees.

    .venv/bin/python benchmarks/model_speed.py                        # this tree only
    .venv/bin/python benchmarks/model_speed.py --against /path/to/old/tree
    .venv/bin/python benchmarks/model_speed.py --against /path/to/old/tree --in-process
    .venv/bin/python benchmarks/model_speed.py --cases default cf_instrument --rounds 5

``--against`` takes another checkout of the repository (its ``src/`` and ``conf/`` are
used with this tree's Python environment): e.g. ``git worktree add /tmp/old 35a50bb``.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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


#: this tree's ``src/``
HERE = Path(__file__).resolve().parents[1] / "src"
#: the name the other tree's package takes in ``--in-process`` mode
BASE_PACKAGE = "clustersim_base"


def renamed_copy(src: Path, into: Path, name: str = BASE_PACKAGE) -> Path:
    """Copy ``src/clustersim`` into ``into/<name>``, its own imports pointing at the new name.

    Every ``clustersim`` / ``clustersim.x`` in the copy's source becomes ``<name>`` /
    ``<name>.x``, so the copy imports itself and never this tree's package.
    """
    dest = into / name
    shutil.copytree(src / "clustersim", dest, ignore=shutil.ignore_patterns("__pycache__"))
    word = re.compile(r"\bclustersim\b(?!-)")
    for path in dest.rglob("*.py"):
        path.write_text(word.sub(name, path.read_text()))
    return dest


def in_process_runners(
    trees: dict[str, Path], overrides: list[str], scratch: Path
) -> dict[str, Callable[[], None]]:
    """For each tree, a callable that simulates the case once with that tree's code and conf.

    This tree (``HERE``) runs as the installed package; any other tree is copied under
    :data:`BASE_PACKAGE` (once) and imported from ``scratch``. Each composes its own ``conf/``
    and runs a toy world once first (lazy imports, first-call caches).
    """
    from hydra import compose, initialize_config_dir

    runners: dict[str, Callable[[], None]] = {}
    for label, src in trees.items():
        if src.resolve() == HERE:
            package = "clustersim"
        else:
            package = BASE_PACKAGE
            if not (scratch / package).exists():
                renamed_copy(src, scratch)
            if str(scratch) not in sys.path:
                sys.path.insert(0, str(scratch))
        runner = importlib.import_module(f"{package}.runner")
        settings = importlib.import_module(f"{package}.settings")
        conf = src.parent / "conf"
        with initialize_config_dir(config_dir=str(conf), version_base="1.3"):
            scenario = settings.load_scenario(compose("config", overrides=overrides))
            warm = settings.load_scenario(compose("config", overrides=["world=toy"]))
        runner.simulate(warm)
        runners[label] = lambda runner=runner, scenario=scenario: runner.simulate(scenario)
    return runners


def timed(run: Callable[[], None]) -> dict[str, float]:
    """CPU and wall seconds of one call, after a full collection so no run pays another's."""
    gc.collect()
    c, w = time.process_time(), time.perf_counter()
    run()
    return {"cpu": time.process_time() - c, "wall": time.perf_counter() - w}


def main() -> None:
    """Time the chosen cases on this tree (and the other tree, alternately); print ratios."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--against", type=Path, help="another checkout to compare with (A)")
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument(
        "--rounds", type=int, default=3, help="processes (in process: runs) per tree and case"
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="both trees in this process, runs alternated one by one (steadier on a noisy host)",
    )
    parser.add_argument("--repeats", type=int, default=2, help="runs per process (best kept)")
    args = parser.parse_args()

    here = HERE
    trees = {"B (this tree)": here}
    if args.against is not None:
        trees = {"A (against)": (args.against / "src").resolve(), **trees}
    figures: dict[tuple[str, str], list[dict[str, float]]] = {}
    if args.in_process:
        with tempfile.TemporaryDirectory(prefix="model_speed_") as scratch:
            for case in args.cases:
                runners = in_process_runners(trees, CASES[case][0], Path(scratch))
                for _ in range(args.rounds):
                    for name, run in runners.items():
                        figures.setdefault((name, case), []).append(timed(run))
    else:
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
    if args.in_process:
        how = f"median over {args.rounds} runs per tree and case, alternated in one process"
    else:
        how = (
            f"median over {args.rounds} fresh processes per tree and case of the best of "
            f"{args.repeats} runs (10x: 1)"
        )
    print(f"\n{how}; cpu = process CPU seconds of simulate(), s = wall.")


if __name__ == "__main__":
    main()
