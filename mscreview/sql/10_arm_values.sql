-- View: arm_values
-- Purpose: every extracted arm-level continuous value (status 'extracted'), with harmonised
--   units and an SD where one can be derived in SQL. Nothing is dropped here: rows that cannot
--   enter a pool stay visible with usable = false and the reason.
--   Units (guide/statistics.md): ALB g/dL x 10 -> g/L; TBIL mg/dL x 17.1 -> umol/L; IU/L is
--   written U/L (the same unit). ALT/AST in multiples of the upper limit of normal (xULN) keep
--   their unit and smd_only = true: they can enter an SMD, never an MD.
--   Rows flagged unit_implausible (the printed unit cannot be right) get no harmonised values
--   (central, mean, sd, bounds NULL; as-printed values kept) and usable = false.
--   SD (Cochrane Handbook 6.5.2.2): from SE sd = se * sqrt(n); from a 95% CI of a mean
--   sd = sqrt(n) (upper - lower) / (2 c) with c = t_{0.975, n-1} for n <= 100 (table ref_t975,
--   computed at build time with scipy.special.stdtrit, as in stats.conversions.sd_from_ci) and
--   c = z_{0.975} = 1.959963984540054 for n > 100 (the Handbook's 3.92 = 2 x 1.96).
--   Medians (Wan et al. 2014 for the SD, Luo et al. 2018 for the mean; stats.conversions):
--   median + IQR: mean = (0.7 + 0.39/n) (q1 + q3)/2 + (0.3 - 0.39/n) median, sd = (q3 - q1)/eta(n);
--   median + range: w = 4/(4 + n^0.75), mean = w (min + max)/2 + (1 - w) median,
--   sd = (max - min)/xi(n). A mean given with an IQR or range gets the same SD. xi(n) and eta(n)
--   come from table ref_wan (stats.wan_xi / stats.wan_eta: Wan's Tables 1-2 for small n, its
--   approximations above). mean_derivation and sd_derivation say how each value was obtained.
--   n: the row's n, else the arm's n_analysed, else n_randomised (n_source says which).
--   preferred: the row chosen when several sources give the same arm, outcome, time point and
--   value type (usable rows first, then view source_preference).
-- Columns:
--   study_id                  study
--   arm_id                    arm
--   role                      control or experimental (arms.role; NULL if the arm is unknown)
--   outcome                   outcome code
--   timepoint_weeks           weeks since the (first) infusion
--   timepoint_label           the source's words
--   value_type                final or change
--   n                         patients (row, else arm)
--   n_source                  row, arms.n_analysed, arms.n_randomised, or NULL
--   central_kind              mean or median
--   dispersion_kind           sd, se, ci95, iqr, range, none
--   unit_reported             unit as printed
--   unit                      harmonised unit
--   unit_factor               multiplier applied (NULL when unit_implausible)
--   smd_only                  true for xULN values: SMD only, never MD
--   unit_implausible          the row carries the unit_implausible flag
--   central_reported          mean or median as printed
--   dispersion_reported       SD or SE as printed
--   dispersion_low_reported   lower CI/IQR/range bound as printed
--   dispersion_high_reported  upper CI/IQR/range bound as printed
--   central                   harmonised mean or median
--   dispersion_low            harmonised lower bound
--   dispersion_high           harmonised upper bound
--   mean                      harmonised mean, reported or derived from a median
--   mean_derivation           as_reported, from_median_{iqr,range}_luo2018, not_derived
--   sd                        harmonised SD, reported or derived
--   sd_derivation             as_reported, from_se, from_ci95_{t,z}, from_{iqr,range}_wan2014, not_derived
--   is_median                 central value is a median (mean derived when it has an IQR or range)
--   usable                    n, mean and sd all present: may enter arm_pairs
--   exclusion_reason          why usable is false (NULL when usable)
--   flags                     the row's own flags as extracted (semicolon-separated)
--   source_id                 source of the value
--   locator                   where in the source
--   preference                source preference of the row (smaller wins)
--   preferred                 the row used when sources duplicate each other
CREATE OR REPLACE VIEW arm_values AS
WITH src AS (
    SELECT
        c.*,
        a.role,
        a.n_analysed,
        a.n_randomised,
        coalesce(list_contains(string_split(c.flags, ';'), 'unit_implausible'), false)
            AS is_implausible,
        coalesce(p.preference, 999) AS src_preference
    FROM continuous_outcomes AS c
    LEFT JOIN arms AS a ON a.study_id = c.study_id AND a.arm_id = c.arm_id
    LEFT JOIN source_preference AS p ON p.source_id = c.source_id
    WHERE c.status = 'extracted'
),
harmonised AS (
    SELECT
        *,
        CASE
            WHEN is_implausible THEN NULL
            WHEN outcome = 'ALB' AND unit = 'g/dL' THEN 10.0
            WHEN outcome = 'TBIL' AND unit = 'mg/dL' THEN 17.1
            ELSE 1.0
        END AS factor,
        CASE
            WHEN outcome = 'ALB' AND unit = 'g/dL' AND NOT is_implausible THEN 'g/L'
            WHEN outcome = 'TBIL' AND unit = 'mg/dL' AND NOT is_implausible THEN 'umol/L'
            WHEN unit = 'IU/L' THEN 'U/L'
            ELSE unit
        END AS unit_h,
        coalesce(n, n_analysed, n_randomised) AS n_used,
        CASE
            WHEN n IS NOT NULL THEN 'row'
            WHEN n_analysed IS NOT NULL THEN 'arms.n_analysed'
            WHEN n_randomised IS NOT NULL THEN 'arms.n_randomised'
        END AS n_src
    FROM src
),
derived AS (
    SELECT
        h.*,
        CASE
            WHEN h.factor IS NULL OR h.central IS NULL THEN NULL
            WHEN h.central_kind = 'mean' THEN h.central * h.factor
            WHEN h.central_kind = 'median' AND h.dispersion_kind = 'iqr' AND wan.n IS NOT NULL
                AND h.dispersion_low IS NOT NULL AND h.dispersion_high IS NOT NULL
                THEN ((0.7 + 0.39 / h.n_used) * (h.dispersion_low + h.dispersion_high) / 2
                      + (0.3 - 0.39 / h.n_used) * h.central) * h.factor
            WHEN h.central_kind = 'median' AND h.dispersion_kind = 'range' AND wan.n IS NOT NULL
                AND h.dispersion_low IS NOT NULL AND h.dispersion_high IS NOT NULL
                THEN (4 / (4 + pow(h.n_used, 0.75)) * (h.dispersion_low + h.dispersion_high) / 2
                      + (1 - 4 / (4 + pow(h.n_used, 0.75))) * h.central) * h.factor
        END AS mean_h,
        CASE
            WHEN h.factor IS NULL OR h.central IS NULL THEN 'not_derived'
            WHEN h.central_kind = 'mean' THEN 'as_reported'
            WHEN h.central_kind = 'median' AND h.dispersion_kind = 'iqr' AND wan.n IS NOT NULL
                AND h.dispersion_low IS NOT NULL AND h.dispersion_high IS NOT NULL
                THEN 'from_median_iqr_luo2018'
            WHEN h.central_kind = 'median' AND h.dispersion_kind = 'range' AND wan.n IS NOT NULL
                AND h.dispersion_low IS NOT NULL AND h.dispersion_high IS NOT NULL
                THEN 'from_median_range_luo2018'
            ELSE 'not_derived'
        END AS mean_how,
        CASE
            WHEN h.factor IS NULL OR h.central_kind NOT IN ('mean', 'median') THEN NULL
            WHEN h.dispersion_kind = 'iqr' AND h.dispersion_high >= h.dispersion_low
                THEN (h.dispersion_high - h.dispersion_low) / wan.eta * h.factor
            WHEN h.dispersion_kind = 'range' AND h.dispersion_high >= h.dispersion_low
                THEN (h.dispersion_high - h.dispersion_low) / wan.xi * h.factor
            WHEN h.central_kind IS DISTINCT FROM 'mean' THEN NULL
            WHEN h.dispersion_kind = 'sd' THEN h.dispersion * h.factor
            WHEN h.dispersion_kind = 'se' THEN h.dispersion * sqrt(h.n_used) * h.factor
            WHEN h.dispersion_kind = 'ci95' AND h.n_used > 100
                THEN sqrt(h.n_used) * (h.dispersion_high - h.dispersion_low)
                     / (2 * 1.959963984540054) * h.factor
            WHEN h.dispersion_kind = 'ci95'
                THEN sqrt(h.n_used) * (h.dispersion_high - h.dispersion_low)
                     / (2 * t.t975) * h.factor
        END AS sd_h,
        CASE
            WHEN h.factor IS NULL OR h.central_kind NOT IN ('mean', 'median') THEN 'not_derived'
            WHEN h.dispersion_kind = 'iqr' AND wan.n IS NOT NULL
                AND h.dispersion_high >= h.dispersion_low THEN 'from_iqr_wan2014'
            WHEN h.dispersion_kind = 'range' AND wan.n IS NOT NULL
                AND h.dispersion_high >= h.dispersion_low THEN 'from_range_wan2014'
            WHEN h.central_kind IS DISTINCT FROM 'mean' THEN 'not_derived'
            WHEN h.dispersion_kind = 'sd' AND h.dispersion IS NOT NULL THEN 'as_reported'
            WHEN h.dispersion_kind = 'se' AND h.dispersion IS NOT NULL AND h.n_used IS NOT NULL
                THEN 'from_se'
            WHEN h.dispersion_kind = 'ci95' AND h.dispersion_low IS NOT NULL
                AND h.dispersion_high IS NOT NULL AND h.n_used > 100 THEN 'from_ci95_z'
            WHEN h.dispersion_kind = 'ci95' AND t.t975 IS NOT NULL
                AND h.dispersion_low IS NOT NULL AND h.dispersion_high IS NOT NULL
                THEN 'from_ci95_t'
            ELSE 'not_derived'
        END AS sd_how
    FROM harmonised AS h
    LEFT JOIN ref_t975 AS t ON t.df = h.n_used - 1
    LEFT JOIN ref_wan AS wan ON wan.n = h.n_used
),
judged AS (
    SELECT
        *,
        CASE
            WHEN is_implausible
                THEN 'unit_implausible: printed unit ' || coalesce(unit, '(none)')
                     || ' cannot be right; kept as printed, not harmonised'
            WHEN role IS NULL THEN 'arm ' || arm_id || ' not in arms'
            WHEN central IS NULL THEN 'no central value'
            WHEN central_kind IS NULL THEN 'central_kind missing (mean or median?)'
            WHEN n_used IS NULL THEN 'n missing (row and arm)'
            WHEN n_used < 2 THEN 'n below 2: no SD can be derived'
            WHEN central_kind = 'median' AND dispersion_kind IN ('sd', 'se', 'ci95')
                THEN 'median given with ' || dispersion_kind
                     || ': a mean cannot be derived (needs the IQR or range)'
            WHEN dispersion_kind IS NULL OR dispersion_kind = 'none'
                THEN 'no dispersion reported (needs SD, SE, 95% CI, IQR or range)'
            WHEN dispersion_kind IN ('iqr', 'range') AND dispersion_high < dispersion_low
                THEN dispersion_kind || ' bounds reversed'
            WHEN sd_h IS NULL THEN 'dispersion values missing for ' || dispersion_kind
            WHEN mean_h IS NULL THEN 'no mean can be derived'
        END AS reason
    FROM derived
)
SELECT
    study_id,
    arm_id,
    role,
    outcome,
    timepoint_weeks,
    timepoint_label,
    value_type,
    n_used AS n,
    n_src AS n_source,
    central_kind,
    dispersion_kind,
    unit AS unit_reported,
    unit_h AS unit,
    factor AS unit_factor,
    coalesce(unit_h = 'xULN', false) AS smd_only,
    is_implausible AS unit_implausible,
    central AS central_reported,
    dispersion AS dispersion_reported,
    dispersion_low AS dispersion_low_reported,
    dispersion_high AS dispersion_high_reported,
    central * factor AS central,
    dispersion_low * factor AS dispersion_low,
    dispersion_high * factor AS dispersion_high,
    mean_h AS mean,
    mean_how AS mean_derivation,
    sd_h AS sd,
    sd_how AS sd_derivation,
    coalesce(central_kind = 'median', false) AS is_median,
    reason IS NULL AS usable,
    reason AS exclusion_reason,
    flags,
    source_id,
    locator,
    src_preference AS preference,
    row_number() OVER (
        PARTITION BY study_id, arm_id, outcome, timepoint_weeks, value_type
        ORDER BY (reason IS NULL) DESC, src_preference, source_id
    ) = 1 AS preferred
FROM judged
ORDER BY study_id, outcome, timepoint_weeks, arm_id, value_type, source_id;
