"""The fixed vocabulary of the model: firm kinds, talent tiers, jurisdictions.

These are part of the model's structure (the ODD's "entities"), not world data, so they
live in code. Parks and districts are world data and live in ``conf/world/``.
"""

from typing import Final

#: Firm kinds, as the plans name them: leading/headquarters FinTech firms, high-growth
#: FinTech firms, FinTech arms of financial institutions, R&D or service institutions.
FIRM_KINDS: Final[tuple[str, ...]] = ("leading", "high_growth", "fi_arm", "rd_service")

#: Talent tiers, from the Huangpu plan's measure 18 and the municipal plan's task 12:
#: top scientists, senior core staff, professionals, juniors.
TALENT_TIERS: Final[tuple[str, ...]] = ("top_scientist", "senior_core", "professional", "junior")

#: Jurisdictions that run regimes: the municipality and the two districts with plans.
JURISDICTIONS: Final[tuple[str, ...]] = ("shanghai", "pudong", "huangpu")

#: Park tags the plans' instruments may target. A world need not have every one (the toy
#: world has no Lingang): an instrument for a tag no park carries simply pays no one.
PLAN_TAGS: Final[tuple[str, ...]] = (
    "huangpu_core_zone",  # Huangpu plan, 一、空间布局: Central Sci-Tech Innovation District + Bund
    "pudong_flagship_park",  # Pudong plan, measure 2
    "two_towns",  # municipal plan, task (14): Lujiazui and Zhangjiang
    "one_belt",  # task (14): Yangpu Riverside, North Bund, Bund, Xuhui Riverside
    "one_port",  # task (14): Lingang
)

#: Shanghai's 16 districts and "other": names an instrument's eligibility may use. A world
#: need not have every one (the toy and Arthur worlds have few): an instrument for a
#: district no park lies in simply pays no one; a misspelt name is still an error.
SHANGHAI_DISTRICTS: Final[tuple[str, ...]] = (
    "huangpu",
    "xuhui",
    "changning",
    "jingan",
    "putuo",
    "hongkou",
    "yangpu",
    "minhang",
    "baoshan",
    "jiading",
    "pudong",
    "jinshan",
    "songjiang",
    "qingpu",
    "fengxian",
    "chongming",
    "other",
)

#: Name of the outside option in location choices: the firm or person does not come.
OUTSIDE: Final[str] = "outside"

#: Number of firm kinds and of talent tiers: the widths of every per-kind / per-tier array.
N_KINDS: Final[int] = len(FIRM_KINDS)
N_TIERS: Final[int] = len(TALENT_TIERS)

KIND_INDEX: Final[dict[str, int]] = {k: i for i, k in enumerate(FIRM_KINDS)}
TIER_INDEX: Final[dict[str, int]] = {t: i for i, t in enumerate(TALENT_TIERS)}
