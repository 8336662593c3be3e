-- View: arm_pairs
-- Purpose: the statistics engine's input for continuous outcomes: one row per included study,
--   outcome and time window (time_windows), experimental vs control.
--   - Only studies with included = true; only usable, preferred rows of arm_values.
--   - Experimental group: the arm 'msc' when the study reports it at that time point (arms.csv
--     uses 'msc' for the whole experimental group as reported, 'msc_<label>' for its parts:
--     "analyse either msc or its parts, never both"); otherwise all experimental arms, combined
--     (Cochrane Handbook 6.5.2.10; for k arms this is the pairwise formula applied repeatedly):
--       n = n1 + n2; mean = (n1 m1 + n2 m2) / n;
--       sd = sqrt(((n1-1) s1^2 + (n2-1) s2^2 + n1 n2 / (n1+n2) (m1-m2)^2) / (n - 1)),
--     written as sd^2 = (sum (n_i-1) s_i^2 + sum n_i (m_i - mean)^2) / (n - 1), the same
--     quantity. Two control arms, if a trial had them, are combined the same way.
--   - Arms pair only in the same harmonised unit and value type.
--   - One time point per study per window: final values before change scores, then the time
--     point closest to the window centre (then the earlier one); timepoint_choice says so.
--   - overlap_group is carried so a pool can refuse two trials sharing patients.
--   - flags (semicolon-separated, sorted): the rows' own flags plus experimental_arms_combined,
--     partial_experimental_arms (not every experimental arm had a value), sd_from_se,
--     sd_from_ci95_t, sd_from_ci95_z, sd_from_iqr_wan2014, sd_from_range_wan2014,
--     mean_from_median_iqr_luo2018, mean_from_median_range_luo2018,
--     n_from_arms.n_analysed / n_from_arms.n_randomised,
--     smd_only (xULN: never an MD), change_from_baseline.
-- Analysis-input: continuous
-- Window: per_window
-- Columns:
--   study_id          study
--   label             forest-plot label
--   year              publication year
--   outcome           outcome code
--   window            time window label (time_windows.label)
--   timepoint_weeks   the time point used
--   unit              harmonised unit (both groups)
--   n1                experimental n (combined)
--   mean1             experimental mean (combined)
--   sd1               experimental SD (combined)
--   n2                control n
--   mean2             control mean
--   sd2               control SD
--   combined_arms     experimental arm ids used, joined with '+'
--   route             route ('unknown' when not given)
--   etiology          etiology ('unknown' when not given)
--   cell_type         cell product ('unknown' when not given)
--   dose_class        low, high, unknown (study_attributes)
--   design            rct, quasi_rct, non_randomised, unclear
--   overlap_group     shared-patients group id (NULL when none)
--   flags             derivation and combination flags
--   value_type        final or change
--   smd_only          true when the unit is xULN
--   control_arms      control arm ids used
--   timepoint_choice  'only time point in window' or which of several was kept and why
--   window_order      time_windows.sort_order (for display)
CREATE OR REPLACE VIEW arm_pairs AS
WITH v AS (
    SELECT
        av.*,
        w.label AS "window",
        w.centre_weeks,
        w.sort_order AS window_order,
        list_concat(
            CASE
                WHEN av.flags IS NULL OR av.flags = '' THEN CAST([] AS VARCHAR[])
                ELSE string_split(av.flags, ';')
            END,
            [
                CASE WHEN av.sd_derivation <> 'as_reported' THEN 'sd_' || av.sd_derivation END,
                CASE WHEN av.mean_derivation <> 'as_reported'
                    THEN 'mean_' || av.mean_derivation END,
                CASE WHEN av.n_source <> 'row' THEN 'n_from_' || av.n_source END,
                CASE WHEN av.smd_only THEN 'smd_only' END,
                CASE WHEN av.value_type = 'change' THEN 'change_from_baseline' END
            ]
        ) AS arm_flags
    FROM arm_values AS av
    JOIN study_attributes AS s ON s.study_id = av.study_id AND s.included
    JOIN time_windows AS w
        ON av.timepoint_weeks >= w.lower_weeks AND av.timepoint_weeks < w.upper_weeks
    WHERE av.usable AND av.preferred
),
selected AS (
    SELECT
        v.*,
        sum(v.n * v.mean) OVER grp / sum(v.n) OVER grp AS group_mean
    FROM v
    WHERE v.role = 'control'
        OR v.arm_id = 'msc'
        OR NOT EXISTS (
            SELECT 1 FROM v AS m
            WHERE m.arm_id = 'msc' AND m.role = 'experimental'
                AND m.study_id = v.study_id AND m.outcome = v.outcome
                AND m.timepoint_weeks = v.timepoint_weeks AND m.value_type = v.value_type
                AND m.unit = v.unit
        )
    WINDOW grp AS (PARTITION BY v.study_id, v.outcome, v.timepoint_weeks, v.value_type, v.unit, v.role)
),
grouped AS (
    SELECT
        study_id, outcome, "window", centre_weeks, window_order, timepoint_weeks, value_type,
        unit, role,
        count(*) AS k,
        sum(n) AS n_g,
        CASE WHEN count(*) = 1 THEN max(mean) ELSE sum(n * mean) / sum(n) END AS mean_g,
        CASE
            WHEN count(*) = 1 THEN max(sd)
            ELSE sqrt(
                (sum((n - 1) * sd * sd) + sum(n * (mean - group_mean) * (mean - group_mean)))
                / (sum(n) - 1)
            )
        END AS sd_g,
        string_agg(arm_id, '+' ORDER BY arm_id) AS arms,
        bool_or(arm_id = 'msc') AS uses_msc,
        flatten(list(arm_flags)) AS flag_list
    FROM selected
    GROUP BY study_id, outcome, "window", centre_weeks, window_order, timepoint_weeks,
        value_type, unit, role
),
arm_counts AS (
    SELECT study_id, count(*) AS k_parts
    FROM arms
    WHERE role = 'experimental' AND arm_id <> 'msc'
    GROUP BY study_id
),
pairs AS (
    SELECT
        e.study_id, e.outcome, e."window", e.centre_weeks, e.window_order, e.timepoint_weeks,
        e.value_type, e.unit,
        e.n_g AS n1, e.mean_g AS mean1, e.sd_g AS sd1,
        c.n_g AS n2, c.mean_g AS mean2, c.sd_g AS sd2,
        e.arms AS combined_arms,
        c.arms AS control_arms,
        list_concat(e.flag_list, list_concat(
            c.flag_list, [
                CASE WHEN e.k > 1 THEN 'experimental_arms_combined' END,
                CASE WHEN c.k > 1 THEN 'control_arms_combined' END,
                CASE WHEN NOT e.uses_msc AND e.k < coalesce(ac.k_parts, 0)
                    THEN 'partial_experimental_arms' END
            ]
        )) AS flag_list
    FROM grouped AS e
    JOIN grouped AS c
        ON c.study_id = e.study_id AND c.outcome = e.outcome
        AND c.timepoint_weeks = e.timepoint_weeks AND c.value_type = e.value_type
        AND c.unit = e.unit AND c.role = 'control'
    LEFT JOIN arm_counts AS ac ON ac.study_id = e.study_id
    WHERE e.role = 'experimental'
),
ranked AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY study_id, outcome, "window"
            ORDER BY (value_type = 'final') DESC, abs(timepoint_weeks - centre_weeks),
                timepoint_weeks, unit
        ) AS rk,
        count(*) OVER (PARTITION BY study_id, outcome, "window") AS n_candidates,
        list(CAST(timepoint_weeks AS VARCHAR) || ' wk ' || value_type || ' (' || unit || ')')
            OVER (PARTITION BY study_id, outcome, "window") AS candidates
    FROM pairs
)
SELECT
    r.study_id,
    s.label,
    s.year,
    r.outcome,
    r."window",
    r.timepoint_weeks,
    r.unit,
    r.n1,
    r.mean1,
    r.sd1,
    r.n2,
    r.mean2,
    r.sd2,
    r.combined_arms,
    s.route,
    s.etiology,
    s.cell_type,
    s.dose_class,
    s.design,
    s.overlap_group,
    nullif(array_to_string(list_sort(list_distinct(r.flag_list)), ';'), '') AS flags,
    r.value_type,
    r.unit = 'xULN' AS smd_only,
    r.control_arms,
    CASE
        WHEN r.n_candidates = 1 THEN 'only time point in window'
        ELSE 'kept ' || CAST(r.timepoint_weeks AS VARCHAR) || ' wk ' || r.value_type
             || ' (final before change, then closest to the window centre '
             || CAST(r.centre_weeks AS VARCHAR) || ' wk) of: '
             || array_to_string(list_sort(r.candidates), ', ')
    END AS timepoint_choice,
    r.window_order
FROM ranked AS r
JOIN study_attributes AS s ON s.study_id = r.study_id
WHERE r.rk = 1
ORDER BY r.outcome, r.window_order, s.year, r.study_id;
