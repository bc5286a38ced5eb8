"""Sensitivity results in words: the sentences follow the numbers they are made from."""

from __future__ import annotations

import pandas as pd

from clustersim.analysis.narrative import (
    box_sentence,
    condition_words,
    importance_sentence,
    outcome_label,
)

BFS = "behavior.entry.but_for_share"
SW = "behavior.entry.subsidy_weight"
VOL = "behavior.growth.volatility"


def sobol_rows(outcome, s1, st):
    rows = []
    for p, a, t in zip((BFS, SW, VOL), s1, st, strict=True):
        rows.append(
            {
                "outcome": outcome,
                "method": "sobol",
                "index": "S1",
                "parameter": p,
                "value": a,
                "note": "",
            }
        )
        rows.append(
            {
                "outcome": outcome,
                "method": "sobol",
                "index": "ST",
                "parameter": p,
                "value": t,
                "note": "",
            }
        )
    return pd.DataFrame(rows)


def test_importance_sentence_ranks_by_total_index_and_groups_the_negligible():
    text = importance_sentence(
        sobol_rows("caused_jobs@2027-12", [0.1, 0.5, 0.0], [0.3, 0.62, 0.01]), "caused_jobs@2027-12"
    )
    assert text.startswith(
        "Caused jobs by 2027-12: the weight entrants give a subsidy explains 50%"
    )
    assert "(62% with its interactions)" in text
    assert text.index("subsidy") < text.index("but-for share")
    assert "the other one less than 5%" in text


def test_box_sentence_states_the_restricted_ranges_density_and_coverage():
    limits = pd.DataFrame({"parameter": [BFS, SW], "low": [0.4, 0.25], "high": [0.7, 1.5]})
    ranges = pd.DataFrame(
        {"parameter": [BFS, SW, VOL], "low": [0.02, 0.25, 0.05], "high": [0.7, 4.0, 0.2]}
    )
    text = box_sentence(
        limits,
        ranges,
        coverage=0.82,
        density=0.87,
        condition="cost_per_caused_job_huangpu_2024 > 1e6",
    )
    assert text == (
        "If the but-for share is above 0.4, and the weight entrants give a subsidy is below 1.5, "
        "then spending per caused job under Huangpu's plan is above RMB 1,000,000 in 87% of the "
        "runs (these runs hold 82% of all the runs where it is so)."
    )


def test_labels_and_conditions_fall_back_to_the_text():
    assert outcome_label("patents@2027-12") == "patents by 2027-12"
    assert condition_words("a > 1 and b < 2") == "`a > 1 and b < 2`"
