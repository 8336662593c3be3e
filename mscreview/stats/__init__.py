"""The statistics engine: pure numpy/scipy, no I/O, nothing else of mscreview imported.

Reproduces RevMan 5 by default (SMD with 1 - 3/(4N - 9), Mantel-Haenszel with RevMan's variances
and MH-centred Q, 0.5 zero-cell correction, I^2 = (Q - df)/Q) and offers metafor's options
(exact SMD, REML, Paule-Mandel, HKSJ, Q-profile CI). Formulas: docs statistics.md, with the
source cited in each function's docstring.
"""

from mscreview.stats._common import StatsError
from mscreview.stats.absolute import (
    AbsoluteEffect,
    absolute_effect,
    median_control_risk,
    risk_with,
)
from mscreview.stats.arms import (
    ContinuousArm,
    DichotomousArm,
    check_one_timepoint,
    choose_arm,
    combine_continuous_arms,
    combine_dichotomous_arms,
)
from mscreview.stats.batch import BatchResult, pool_batch, pool_ragged
from mscreview.stats.bias import EggerTest, Funnel, egger_test, funnel
from mscreview.stats.conversions import (
    Derived,
    convert_unit,
    mean_sd_from_median,
    sd_from_ci,
    sd_from_iqr,
    sd_from_range,
    sd_from_se,
    wan_eta,
    wan_xi,
)
from mscreview.stats.dichotomous import pool_mh, pool_peto
from mscreview.stats.effects import continuous_effects, dichotomous_effects
from mscreview.stats.pooling import generic_effects, pool, pool_yi_vi
from mscreview.stats.results import EffectSet, Excluded, PoolResult, StudyEffect
from mscreview.stats.sensitivity import cumulative, leave_one_out
from mscreview.stats.sequential import (
    InformationSize,
    SequentialBounds,
    diversity,
    information_size_continuous,
    information_size_dichotomous,
    obf_boundaries,
    obf_spending,
)
from mscreview.stats.subgroups import (
    SubgroupAnalysis,
    SubgroupTest,
    analyse_subgroups,
    subgroup_differences,
)

__all__ = [
    "AbsoluteEffect",
    "BatchResult",
    "ContinuousArm",
    "Derived",
    "DichotomousArm",
    "EffectSet",
    "EggerTest",
    "Excluded",
    "Funnel",
    "InformationSize",
    "PoolResult",
    "SequentialBounds",
    "StatsError",
    "StudyEffect",
    "SubgroupAnalysis",
    "SubgroupTest",
    "absolute_effect",
    "analyse_subgroups",
    "check_one_timepoint",
    "choose_arm",
    "combine_continuous_arms",
    "combine_dichotomous_arms",
    "continuous_effects",
    "convert_unit",
    "cumulative",
    "dichotomous_effects",
    "diversity",
    "egger_test",
    "funnel",
    "generic_effects",
    "information_size_continuous",
    "information_size_dichotomous",
    "leave_one_out",
    "mean_sd_from_median",
    "median_control_risk",
    "obf_boundaries",
    "obf_spending",
    "pool",
    "pool_batch",
    "pool_mh",
    "pool_peto",
    "pool_ragged",
    "pool_yi_vi",
    "risk_with",
    "sd_from_ci",
    "sd_from_iqr",
    "sd_from_range",
    "sd_from_se",
    "subgroup_differences",
    "wan_eta",
    "wan_xi",
]
