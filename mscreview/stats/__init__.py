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
from mscreview.stats.audit import (
    DF_MAX,
    CICheck,
    ImpliedK,
    PValueCheck,
    check_ci,
    check_p_value,
    count_decimals,
    heterogeneity_k,
    parse_p,
    printed_decimals,
    rounding_interval,
    se_from_ci,
)
from mscreview.stats.batch import (
    BatchResult,
    cumulative_batch,
    leave_one_out_batch,
    pool_batch,
    pool_ragged,
)
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
from mscreview.stats.diagnostics import Influence, influence
from mscreview.stats.dichotomous import pool_mh, pool_peto
from mscreview.stats.effects import continuous_effects, dichotomous_effects
from mscreview.stats.integrity import (
    BalanceTest,
    GrimmerResult,
    Stouffer,
    baseline_balance,
    baseline_balance_two_arms,
    grim,
    grimmer,
    percent_consistent,
    stouffer,
)
from mscreview.stats.metareg import MetaRegression, meta_regression, meta_regression_predict
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
from mscreview.stats.trimfill import TrimFill, contour_z, trim_and_fill

__all__ = [
    "AbsoluteEffect",
    "BalanceTest",
    "BatchResult",
    "CICheck",
    "ContinuousArm",
    "DF_MAX",
    "Derived",
    "DichotomousArm",
    "EffectSet",
    "EggerTest",
    "Excluded",
    "Funnel",
    "GrimmerResult",
    "ImpliedK",
    "Influence",
    "InformationSize",
    "MetaRegression",
    "PValueCheck",
    "PoolResult",
    "SequentialBounds",
    "StatsError",
    "Stouffer",
    "StudyEffect",
    "SubgroupAnalysis",
    "SubgroupTest",
    "TrimFill",
    "absolute_effect",
    "analyse_subgroups",
    "baseline_balance",
    "baseline_balance_two_arms",
    "check_ci",
    "check_one_timepoint",
    "check_p_value",
    "choose_arm",
    "combine_continuous_arms",
    "combine_dichotomous_arms",
    "continuous_effects",
    "contour_z",
    "convert_unit",
    "count_decimals",
    "cumulative",
    "cumulative_batch",
    "dichotomous_effects",
    "diversity",
    "egger_test",
    "funnel",
    "generic_effects",
    "grim",
    "grimmer",
    "heterogeneity_k",
    "influence",
    "information_size_continuous",
    "information_size_dichotomous",
    "leave_one_out",
    "leave_one_out_batch",
    "mean_sd_from_median",
    "median_control_risk",
    "meta_regression",
    "meta_regression_predict",
    "obf_boundaries",
    "obf_spending",
    "parse_p",
    "percent_consistent",
    "pool",
    "pool_batch",
    "pool_mh",
    "pool_peto",
    "pool_ragged",
    "pool_yi_vi",
    "printed_decimals",
    "risk_with",
    "rounding_interval",
    "sd_from_ci",
    "sd_from_iqr",
    "sd_from_range",
    "sd_from_se",
    "se_from_ci",
    "stouffer",
    "subgroup_differences",
    "trim_and_fill",
    "wan_eta",
    "wan_xi",
]
