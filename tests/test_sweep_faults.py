"""The fault-injection script, short: killed, damaged and concurrent sweeps end whole.

``benchmarks/sweep_faults.py`` kills sweeps at random moments, truncates random files and
runs two sweeps at once into one folder, then checks that the collected tables and every
job's tables equal those of an undisturbed sweep, byte for byte. This runs its quick
version (a kill, a truncation and a pair of concurrent sweeps on 4 toy jobs); the long
version is run by hand (``python benchmarks/sweep_faults.py``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "sweep_faults.py"


def test_faulty_sweeps_end_with_the_tables_of_an_undisturbed_one(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--seed", "3"],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "OK: after 4 rounds" in proc.stdout
    assert "truncated" in proc.stdout and "two sweeps at once" in proc.stdout
