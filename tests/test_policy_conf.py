"""The plans as encoded in conf/policy/: faithful to the documents, composable, checked.

Properties a broken encoding would violate: a quote that is not in its clause, a clause
number the document does not have, a Huangpu amount that is missing or in the wrong
unit, a number without a stated source, a variant that changes more than it says, and
bad values that slip through the parser.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from clustersim.cli import policy as policy_cli
from clustersim.policy import (
    Event,
    Instrument,
    PayoutRule,
    PolicyConfigError,
    Recipient,
    Regime,
    ServiceGrant,
    expected_value,
    parse_regimes,
    requested_amount,
    show,
)

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
POLICY_DIR = CONF / "policy"
SEEDS = Path(os.environ.get("CLUSTERSIM_SEEDS", ROOT.parent / "shared" / "seeds"))
BASE_REGIMES = ("shanghai_2020", "pudong_2027", "huangpu_2024")
ALL_FILES = sorted(p.stem for p in POLICY_DIR.glob("*.yaml"))

needs_seeds = pytest.mark.skipif(
    not SEEDS.is_dir(), reason=f"seed documents not found at {SEEDS} (set CLUSTERSIM_SEEDS)"
)


# ------------------------------------------------------------------------------ helpers


def _world_names() -> tuple[list[str], list[str], list[str]]:
    world = OmegaConf.to_container(OmegaConf.load(CONF / "world" / "shanghai.yaml"))
    assert isinstance(world, dict)
    parks = world["parks"]
    tags = sorted({t for p in parks.values() for t in p.get("tags", [])})
    return list(parks), list(world["districts"]), tags


def _compose_policy_group(name: str, tmp_path: Path, overrides: tuple[str, ...] = ()) -> Any:
    """Compose the policy group alone from a copy of conf/policy (no world needed)."""
    conf = tmp_path / "conf"
    if not conf.exists():
        shutil.copytree(POLICY_DIR, conf / "policy")
        (conf / "config.yaml").write_text("defaults:\n  - policy: none\n  - _self_\n")
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(conf), version_base="1.3"):
        cfg = compose("config", overrides=[f"policy={name}", *overrides])
    return cfg.policy


def _regimes(name: str, tmp_path: Path, overrides: tuple[str, ...] = ()) -> list[Regime]:
    return parse_regimes(_compose_policy_group(name, tmp_path, overrides), *_world_names())


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Regime]:
    """The three base regimes, parsed from the composed all_three config."""
    regs = _regimes("all_three", tmp_path_factory.mktemp("policy"))
    return {r.name: r for r in regs}


def _norm(text: str) -> str:
    """Drop all whitespace: the seed texts break lines inside sentences."""
    return re.sub(r"\s+", "", text)


# How each seed document numbers its clauses: the part of the text holding the numbered
# measures (start marker, end marker) and the pattern of a clause's first line.
_LAYOUT = {
    "004_ba7abe407923d6f5.txt": ("三、支持举措", "四、加强风险防范", r"^(\d+)、"),
    "003_7fb046b7cde93cc0.txt": ("四、重点任务", "本实施方案自", r"^(\d+)\."),
    "002_1d76fb1082e82b21.txt": (
        "IV. Key Tasks",
        "This Implementation Plan shall be",
        r"^\((\d+)\)",
    ),
    "001_12a9b0f474ff86f3.txt": (None, "This plan takes effect", r"^(\d+)\. "),
    "000_101e99e7283e77f0.txt": (None, "Dieser Plan tritt", r"^(\d+)\. "),
}


def clauses(document: str) -> dict[str, str]:
    """Clause number -> the clause's text, for one seed document."""
    text = (SEEDS / document).read_text(encoding="utf-8")
    start, end, pattern = _LAYOUT[document]
    if start is not None:
        text = text[text.index(start) :]
    text = text[: text.index(end)]
    out: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        m = re.match(pattern, line.strip())
        if m:
            current = m.group(1)
            assert current not in out, f"clause {current} twice in {document}"
            out[current] = ""
        if current is not None:
            out[current] += line + "\n"
    return out


def _all_instruments(base: dict[str, Regime]) -> list[Instrument]:
    return [i for r in base.values() for i in r.instruments]


# ------------------------------------------------------------------- composing and parsing


@pytest.mark.parametrize("name", ALL_FILES)
def test_every_policy_file_composes_and_parses(name: str, tmp_path: Path) -> None:
    regs = _regimes(name, tmp_path)
    if name == "none":
        assert regs == []
    else:
        assert regs and all(r.instruments for r in regs)
        for r in regs:
            assert r.name in BASE_REGIMES
            assert len({i.id for i in r.instruments}) == len(r.instruments)


def test_all_three_composes_the_three_plans(base: dict[str, Regime]) -> None:
    assert set(base) == set(BASE_REGIMES)
    issuers = {r.name: r.issuer for r in base.values()}
    assert issuers == {
        "shanghai_2020": "shanghai",
        "pudong_2027": "pudong",
        "huangpu_2024": "huangpu",
    }
    for r in base.values():
        assert all(i.issuer == r.issuer and i.document == r.document for i in r.instruments)


def test_real_config_composes_with_policy_all_three() -> None:
    """The real conf/config.yaml with the world: names in eligibility exist in the world."""
    regs = show.compose_policy("all_three", config_dir=CONF)
    assert {r.name for r in regs} == set(BASE_REGIMES)


def test_command_line_overrides_reach_the_instruments(tmp_path: Path) -> None:
    (reg,) = _regimes(
        "huangpu_2024",
        tmp_path,
        (
            "policy.huangpu_2024.talent_introduction.cap=2000000",
            "policy.huangpu_2024.rd_subsidy.enabled=false",
            "policy.huangpu_2024.budget_scale=0.5",
            "policy.huangpu_2024.compute_subsidy.window.end=2026-06",
        ),
    )
    assert reg.instrument("talent_introduction").cap == 2_000_000
    assert not reg.instrument("rd_subsidy").enabled
    assert reg.instrument("rd_subsidy") not in reg.active("2025-06")
    assert reg.instrument("quality_award").yearly_budget == 1_500_000
    assert str(reg.instrument("compute_subsidy").window.end) == "2026-06"


def test_variant_no_rd_changes_only_rd_subsidy(base: dict[str, Regime], tmp_path: Path) -> None:
    (variant,) = _regimes("huangpu_2024_no_rd", tmp_path)
    original = base["huangpu_2024"]
    assert [i.id for i in variant.instruments] == [i.id for i in original.instruments]
    for a, b in zip(variant.instruments, original.instruments, strict=True):
        if a.id == "rd_subsidy":
            assert not a.enabled and b.enabled
            assert a == dataclasses.replace(b, enabled=False)
        else:
            assert a == b


def test_variant_half_budget_scales_every_budget(base: dict[str, Regime], tmp_path: Path) -> None:
    (variant,) = _regimes("huangpu_2024_half_budget", tmp_path)
    original = base["huangpu_2024"]
    for a, b in zip(variant.instruments, original.instruments, strict=True):
        assert a.yearly_budget == pytest.approx(0.5 * b.yearly_budget)
    assert (
        variant.instrument("talent_introduction").cap
        == 2 * original.instrument("talent_introduction").cap
    )


# ---------------------------------------------------------------- faithful to the documents


@needs_seeds
def test_every_clause_number_exists_in_its_document(base: dict[str, Regime]) -> None:
    for inst in _all_instruments(base):
        assert inst.clause in clauses(inst.document), f"{inst.key}: no clause {inst.clause}"


@needs_seeds
def test_every_quote_is_verbatim_in_its_clause(base: dict[str, Regime]) -> None:
    for inst in _all_instruments(base):
        clause_text = _norm(clauses(inst.document)[inst.clause])
        assert _norm(inst.quote) in clause_text, f"{inst.key}: quote not in clause {inst.clause}"


@needs_seeds
def test_every_translated_quote_is_verbatim_in_the_translation(base: dict[str, Regime]) -> None:
    checked = 0
    for reg in base.values():
        for inst in reg.instruments:
            if inst.quote_translation is None:
                continue
            assert reg.translation is not None, f"{inst.key}: quote_translation without translation"
            clause_text = _norm(clauses(reg.translation)[inst.clause])
            assert _norm(inst.quote_translation) in clause_text, f"{inst.key}: translation quote"
            checked += 1
    assert checked >= 9  # every municipal instrument quotes the English translation too


_HUANGPU_AMOUNT = re.compile(r"(不超过|不低于)(\d+(?:\.\d+)?)(万|亿)元")
_UNIT = {"万": 10_000, "亿": 100_000_000}


@needs_seeds
def test_every_huangpu_amount_is_encoded_in_yuan(base: dict[str, Regime]) -> None:
    """Each 不超过/不低于 N 万元/亿元 of a Huangpu measure is a cap/floor of that clause."""
    reg = base["huangpu_2024"]
    found = 0
    for number, text in clauses(reg.document).items():
        for kind, value, unit in _HUANGPU_AMOUNT.findall(_norm(text)):
            yuan = float(value) * _UNIT[unit]
            same_clause = [i for i in reg.instruments if i.clause == number]
            attr = "cap" if kind == "不超过" else "floor"
            assert any(getattr(i, attr) == yuan for i in same_clause), (
                f"measure {number}: {kind}{value}{unit}元 = {yuan:,.0f} yuan not encoded as {attr}"
            )
            found += 1
    assert found == 19  # 17 caps (measures 1, 3, 4, 6, 9-16, 18, 22-25) and 2 floors (19)


@needs_seeds
def test_every_huangpu_text_amount_comes_from_its_clause(base: dict[str, Regime]) -> None:
    """The converse: an instrument whose amounts claim to come from the text has them there."""
    reg = base["huangpu_2024"]
    texts = clauses(reg.document)
    for inst in reg.instruments:
        if inst.amount_source.value != "text":
            continue
        stated = {
            float(v) * _UNIT[u] for _k, v, u in _HUANGPU_AMOUNT.findall(_norm(texts[inst.clause]))
        }
        limits = {x for x in (inst.cap, inst.floor) if x is not None}
        assert limits and limits <= stated, f"{inst.key}: {limits} not among {stated}"


def test_huangpu_covers_every_measure_with_an_amount_or_service(base: dict[str, Regime]) -> None:
    clauses_encoded = {i.clause for i in base["huangpu_2024"].instruments}
    with_amount = {"1", "3", "4", "6", "9", "10", "11", "12", "13", "14", "15", "16", "18", "19"}
    with_amount |= {"22", "23", "24", "25"}
    services = {"17", "20"}  # exam-fee subsidy; housing/schooling/medical services
    assert with_amount | services <= clauses_encoded
    reg = base["huangpu_2024"]
    assert reg.instrument("talent_services").payout.rule is PayoutRule.SERVICE
    assert reg.instrument("exam_fee_subsidy").eligible.event is Event.EXAM_CERTIFICATION


def test_windows_follow_the_documents(base: dict[str, Regime]) -> None:
    for inst in base["huangpu_2024"].instruments:
        assert (str(inst.window.start), str(inst.window.end)) == ("2025-01", "2027-12")
    for inst in base["pudong_2027"].instruments:
        assert str(inst.window.end) == "2027-12"
    for inst in base["shanghai_2020"].instruments:
        assert str(inst.window.start) == "2020-02"
    assert base["huangpu_2024"].active("2024-12") == ()
    assert len(base["huangpu_2024"].active("2025-01")) == len(base["huangpu_2024"].instruments)


def test_huangpu_core_zone_and_district_targeting(base: dict[str, Regime]) -> None:
    reg = base["huangpu_2024"]
    assert reg.instrument("carrier_subsidy").eligible.tags == ("huangpu_core_zone",)
    for inst in reg.instruments:
        assert inst.eligible.districts == ("huangpu",) or inst.eligible.tags == (
            "huangpu_core_zone",
        ), inst.key


def test_municipal_instruments_named_in_the_brief(base: dict[str, Regime]) -> None:
    reg = base["shanghai_2020"]
    # the 15% high-tech income-tax rate is national law (conf/national), not a plan measure
    national_rate = [
        i.key
        for r in base.values()
        for i in r.instruments
        if i.payout.rule is PayoutRule.TAX_RATE_CHANGE and "high_tech" in i.eligible.certified
    ]
    assert not national_rate, national_rate
    assert reg.instrument("lingang_direct_settlement").eligible.tags == ("one_port",)
    assert set(reg.instrument("spatial_layout").eligible.tags) == {
        "two_towns",
        "one_belt",
        "one_port",
    }
    assert {i.clause for i in reg.instruments} >= {"12", "14", "22", "23"}


def test_pudong_amounts_are_all_assumptions(base: dict[str, Regime]) -> None:
    for inst in base["pudong_2027"].instruments:
        assert inst.amount_source.value == "assumption", inst.key
    flagship = [i for i in base["pudong_2027"].instruments if i.clause == "2"]
    assert flagship and all(i.eligible.tags == ("pudong_flagship_park",) for i in flagship)
    assert {i.clause for i in base["pudong_2027"].instruments} == {str(n) for n in range(1, 9)}


def test_huangpu_budgets_add_up_to_the_announced_500m(base: dict[str, Regime]) -> None:
    total = sum(i.yearly_budget for i in base["huangpu_2024"].instruments)
    assert total == 500_000_000


_NUMERIC_KEY = re.compile(
    r"^\s*(amount|rate|cap|floor|approval_probability|annual_budget|budget_scale):"
    r"\s*(-?[0-9][0-9_.eE+-]*)\s*(#.*)?$"
)
_SOURCE = re.compile(r"assumption|published|scenario|\b[HPM]\d+\b|Law")


@pytest.mark.parametrize("name", ALL_FILES)
def test_every_number_in_the_yaml_says_where_it_comes_from(name: str) -> None:
    for n, line in enumerate((POLICY_DIR / f"{name}.yaml").read_text().splitlines(), 1):
        m = _NUMERIC_KEY.match(line)
        if m:
            comment = m.group(3) or ""
            assert _SOURCE.search(comment), f"{name}.yaml:{n}: number without a source: {line!r}"


# ------------------------------------------------------------------------- payout semantics


def _minimal(**instrument: Any) -> dict[str, Any]:
    """A valid one-instrument regime; keyword arguments replace instrument keys."""
    inst: dict[str, Any] = {
        "clause": "18",
        "quote": "给予每人不超过 100 万元的人才引进奖励",
        "enabled": True,
        "recipient": "talent",
        "eligible": {
            "event": "hire",
            "kinds": [],
            "tiers": ["top_scientist"],
            "districts": ["huangpu"],
            "parks": [],
            "tags": [],
            "certified": [],
            "new_only": False,
        },
        "payout": {"rule": "per_person", "amount": 300000, "rate": None},
        "cap": 1000000,
        "floor": None,
        "cap_per": "window",
        "amount_source": "text",
        "note": "",
        "approval_probability": 0.3,
        "window": {"start": "2025-01", "end": "2027-12"},
        "annual_budget": 50000000,
    }
    inst.update(instrument)
    return {
        "r": {
            "issuer": "huangpu",
            "document": "004_ba7abe407923d6f5.txt",
            "title": "t",
            "budget_scale": 1.0,
            "i": inst,
        }
    }


def _one(cfg: dict[str, Any]) -> Instrument:
    (reg,) = parse_regimes(cfg)
    (inst,) = reg.instruments
    return inst


def test_minimal_regime_parses() -> None:
    inst = _one(_minimal())
    assert inst.key == "r.i"
    assert inst.recipient is Recipient.TALENT and inst.eligible.event is Event.HIRE


def test_per_person_scales_with_persons_and_caps_per_person() -> None:
    inst = _one(_minimal(payout={"rule": "per_person", "amount": 1_500_000, "rate": None}))
    np.testing.assert_allclose(requested_amount(inst, [1, 5]), [1.5e6, 7.5e6])
    np.testing.assert_allclose(expected_value(inst, [1, 5]), [0.3 * 1e6, 0.3 * 5e6])


def test_share_of_spend_takes_the_rate_of_the_base() -> None:
    inst = _one(
        _minimal(
            recipient="firm",
            eligible={"event": "rd_spend"},
            payout={"rule": "share_of_spend", "amount": None, "rate": 0.1},
            cap=2e6,
            approval_probability=1.0,
        )
    )
    np.testing.assert_allclose(expected_value(inst, [0, 1e6, 1e8]), [0, 1e5, 2e6])


def test_floor_lifts_and_no_base_means_nothing() -> None:
    inst = _one(
        _minimal(payout={"rule": "per_person", "amount": 50_000, "rate": None}, cap=None, floor=2e5)
    )
    np.testing.assert_allclose(expected_value(inst, [0, 1, 2]), [0, 0.3 * 2e5, 0.3 * 4e5])


def test_service_and_tax_are_not_cash() -> None:
    assert not PayoutRule.SERVICE.cash and not PayoutRule.TAX_RATE_CHANGE.cash
    assert PayoutRule.LUMP_SUM.cash and PayoutRule.EQUITY.cash
    assert all(r.doc for r in PayoutRule) and all(e.doc for e in Event)


# ----------------------------------------------------------------------------- bad input


def _set(cfg: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    cfg = copy.deepcopy(cfg)
    *path, last = dotted.split(".")
    node = cfg
    for key in path:
        node = node[key]
    node[last] = value
    return cfg


BAD = [
    # (dotted key to set under the regime 'r', value, field named in the error)
    ("r.budget_scal", 0.5, "policy.r.budget_scal"),
    ("r.i.capp", 5, "policy.r.i.capp"),
    ("r.i.eligible.tier", ["junior"], "policy.r.i.eligible.tier"),
    ("r.i.payout.amout", 5, "policy.r.i.payout.amout"),
    ("r.issuer", "beijing", "policy.r.issuer"),
    ("r.i.recipient", "household", "policy.r.i.recipient"),
    ("r.i.payout.rule", "voucher", "policy.r.i.payout.rule"),
    ("r.i.eligible.event", "birthday", "policy.r.i.eligible.event"),
    ("r.i.eligible.tiers", ["intern"], "policy.r.i.eligible.tiers[0]"),
    ("r.i.cap", -1, "policy.r.i.cap"),
    ("r.i.floor", -1, "policy.r.i.floor"),
    ("r.i.annual_budget", -5, "policy.r.i.annual_budget"),
    ("r.i.payout.amount", -300000, "policy.r.i.payout.amount"),
    ("r.budget_scale", -0.5, "policy.r.budget_scale"),
    ("r.i.approval_probability", 1.5, "policy.r.i.approval_probability"),
    ("r.i.approval_probability", -0.1, "policy.r.i.approval_probability"),
    ("r.i.approval_probability", None, "policy.r.i.approval_probability"),
    ("r.i.cap", float("nan"), "policy.r.i.cap"),
    ("r.i.annual_budget", float("inf"), "policy.r.i.annual_budget"),
    ("r.i.cap", True, "policy.r.i.cap"),
    ("r.i.cap", "lots", "policy.r.i.cap"),
    ("r.i.window", {"start": "2025-06", "end": "2025-01"}, "policy.r.i.window.end"),
    ("r.i.window", {"start": "2025-13", "end": "2027-12"}, "policy.r.i.window.start"),
    ("r.i.window", {"start": "2025-01", "end": "2027-12-31"}, "policy.r.i.window.end"),
    ("r.i.window", {"start": "2025-01"}, "policy.r.i.window.end"),
    ("r.i.floor", 2_000_000, "policy.r.i.cap"),
    ("r.i.enabled", "yes", "policy.r.i.enabled"),
    ("r.i.cap_per", "month", "policy.r.i.cap_per"),
    ("r.i.amount_source", "rumour", "policy.r.i.amount_source"),
    ("r.i.eligible.event", "loan", "policy.r.i.eligible.event"),  # loan pays firms, not talent
    ("r.i.eligible.kinds", ["leading"], "policy.r.i.eligible.kinds"),  # kinds on a talent award
    (
        "r.i.payout",
        {"rule": "share_of_spend", "amount": None, "rate": None},
        "policy.r.i.payout.rate",
    ),
    ("r.i.payout", {"rule": "per_person", "amount": 1, "rate": 0.5}, "policy.r.i.payout.rate"),
    ("r.i.payout", {"rule": "lump_sum", "amount": None, "rate": None}, "policy.r.i.payout.amount"),
    ("r.i", "not a mapping", "policy.r.i"),
    ("r.i.clause", "", "policy.r.i.clause"),
    # a service to talent says what it gives; nothing else gives a status
    ("r.i.payout", {"rule": "service", "amount": 1, "rate": None}, "policy.r.i.payout.gives"),
    (
        "r.i.payout",
        {"rule": "service", "amount": 1, "rate": None, "gives": "a_car"},
        "policy.r.i.payout.gives",
    ),
    (
        "r.i.payout",
        {"rule": "per_person", "amount": 1, "rate": None, "gives": "housing"},
        "policy.r.i.payout.gives",
    ),
]


@pytest.mark.parametrize(("dotted", "value", "field"), BAD, ids=[f"{b[0]}={b[1]!r}" for b in BAD])
def test_bad_values_are_rejected_naming_the_field(dotted: str, value: Any, field: str) -> None:
    with pytest.raises(PolicyConfigError) as err:
        parse_regimes(_set(_minimal(), dotted, value))
    assert str(err.value).startswith(f"{field} = "), str(err.value)
    assert isinstance(err.value, ValueError)


def test_missing_required_key_is_named() -> None:
    cfg = _minimal()
    del cfg["r"]["i"]["quote"]
    with pytest.raises(
        PolicyConfigError, match=r"^policy\.r\.i\.quote = None: this key is required"
    ):
        parse_regimes(cfg)


def test_rate_above_one_is_rejected() -> None:
    cfg = _minimal(
        recipient="firm",
        eligible={"event": "rd_spend"},
        payout={"rule": "share_of_spend", "amount": None, "rate": 1.5},
    )
    with pytest.raises(PolicyConfigError, match=r"^policy\.r\.i\.payout\.rate = 1\.5"):
        parse_regimes(cfg)


def test_share_of_spend_needs_a_spending_event() -> None:
    cfg = _minimal(
        recipient="firm",
        eligible={"event": "patent"},
        payout={"rule": "share_of_spend", "amount": None, "rate": 0.1},
    )
    with pytest.raises(PolicyConfigError, match=r"^policy\.r\.i\.eligible\.event = 'patent'"):
        parse_regimes(cfg)


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("districts", ["minhang"], "policy.r.i.eligible.districts[0]"),
        ("parks", ["the_moon"], "policy.r.i.eligible.parks[0]"),
        ("tags", ["three_towns"], "policy.r.i.eligible.tags[0]"),
    ],
)
def test_unknown_places_are_rejected_when_the_world_is_known(
    key: str, value: list[str], field: str
) -> None:
    cfg = _set(_minimal(), f"r.i.eligible.{key}", value)
    parse_regimes(cfg)  # without a world, names are not checked
    with pytest.raises(PolicyConfigError) as err:
        parse_regimes(cfg, *_world_names())
    assert str(err.value).startswith(f"{field} = ") and "allowed:" in str(err.value)


def test_unknown_kind_is_rejected() -> None:
    cfg = _minimal(recipient="firm", eligible={"event": "entry", "kinds": ["bank"]})
    cfg["r"]["i"]["payout"] = {"rule": "lump_sum", "amount": 1, "rate": None}
    with pytest.raises(PolicyConfigError, match=r"^policy\.r\.i\.eligible\.kinds\[0\] = 'bank'"):
        parse_regimes(cfg)


def test_what_a_service_gives_is_a_typed_field(base: dict[str, Regime]) -> None:
    payout = {"rule": "service", "amount": 5e4, "rate": None, "gives": "residency"}
    inst = _one(_minimal(payout=payout))
    assert inst.payout.gives is ServiceGrant.RESIDENCY
    # every service to talent in the plans says what it gives
    for regime in base.values():
        for inst in regime.instruments:
            is_talent_service = (
                inst.payout.rule is PayoutRule.SERVICE and inst.recipient is Recipient.TALENT
            )
            assert (inst.payout.gives is not None) == is_talent_service, inst.key


def test_no_policy_is_no_regimes() -> None:
    assert parse_regimes({}) == [] and parse_regimes(None) == []


# ------------------------------------------------------------------------------------ CLI


def test_cli_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert policy_cli.main(["list"]) == 0
    out = capsys.readouterr().out.split()
    assert {"none", "all_three", *BASE_REGIMES} <= set(out)


def test_cli_show_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert policy_cli.main(["show", "huangpu_2024"]) == 0
    out = capsys.readouterr().out
    assert "talent_introduction" in out and "<= 1,000,000/window" in out
    assert "004_ba7abe407923d6f5.txt §18" in out and ">= 200,000" in out
    assert "2025-01..2027-12" in out and "assumption" in out


def test_cli_unknown_regime_lists_the_available_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert policy_cli.main(["show", "huangpu_2099"]) == 2
    err = capsys.readouterr().err
    assert "unknown regime 'huangpu_2099'" in err and "huangpu_2024" in err
    assert "Traceback" not in err


def test_cli_bad_override_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = policy_cli.main(
        ["show", "huangpu_2024", "policy.huangpu_2024.talent_introduction.cap=-1"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "policy.huangpu_2024.talent_introduction.cap = -1" in err


def test_yearly_budget_is_inf_without_budget_line(base: dict[str, Regime]) -> None:
    permit = base["shanghai_2020"].instrument("residence_permit")
    assert math.isinf(permit.yearly_budget)


def test_a_misspelt_instrument_in_a_variant_is_named(tmp_path: Path) -> None:
    with pytest.raises(PolicyConfigError) as err:
        _regimes("huangpu_2024", tmp_path, ("+policy.huangpu_2024.rd_subsidyy.enabled=false",))
    assert err.value.field == "policy.huangpu_2024.rd_subsidyy"
    assert "not an instrument of huangpu_2024" in str(err.value) and "rd_subsidy" in str(err.value)


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("policy.huangpu_2024.rd_subsidy.clause=26", "policy.huangpu_2024.rd_subsidy.clause"),
        ("policy.pudong_2027.event_funding.clause=11", "policy.pudong_2027.event_funding.clause"),
        (
            "policy.shanghai_2020.residence_permit.clause=0",
            "policy.shanghai_2020.residence_permit.clause",
        ),
    ],
)
def test_a_clause_the_document_does_not_have_is_an_error(
    override: str, field: str, tmp_path: Path
) -> None:
    with pytest.raises(PolicyConfigError) as err:
        _regimes("all_three", tmp_path, (override,))
    assert err.value.field == field and "clauses 1.." in str(err.value)


def test_narrowed_huangpu_measures_follow_the_text(base: dict[str, Regime]) -> None:
    reg = base["huangpu_2024"]
    assert reg.instrument("rd_subsidy").eligible.event is Event.MAJOR_PROJECT  # H9
    assert reg.instrument("patent_award").eligible.event is Event.IP_PILOT  # H13
    assert not reg.instrument("rd_institution_subsidy").eligible.new_only  # H10


def test_broad_variants_restore_the_earlier_readings(tmp_path: Path) -> None:
    broad = {r.name: r for r in _regimes("huangpu_2024_broad", tmp_path)}["huangpu_2024"]
    assert broad.instrument("rd_subsidy").eligible.event is Event.RD_SPEND
    assert broad.instrument("rd_subsidy").payout.rule is PayoutRule.SHARE_OF_SPEND
    assert broad.instrument("patent_award").eligible.event is Event.PATENT


def test_pudong_document_only_variant_starts_every_instrument_in_2025_01(tmp_path: Path) -> None:
    (reg,) = _regimes("pudong_2027_document_only", tmp_path)
    assert {str(i.window.start) for i in reg.instruments} == {"2025-01"}
    (base_reg,) = _regimes("pudong_2027", tmp_path)
    assert {str(i.window.start) for i in base_reg.instruments} == {"2025-07"}
