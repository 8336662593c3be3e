-- View: dichotomous_pairs
-- Purpose: the statistics engine's input for events (death, hcc, complications, ...): one row
--   per included study, outcome and time window, experimental vs control.
--   - Rows with status 'extracted' and a count of events; n is the row's n, else the arm's
--     n_analysed, else n_randomised (flag n_from_...). Percent-only rows are not converted.
--   - One source per arm and time point (view source_preference).
--   - Experimental group: arm 'msc' when reported, else all experimental arms combined
--     (events and n added: Cochrane Handbook 6.5.2.10); flag experimental_arms_combined.
--   - One time point per study per window: the one closest to the window centre.
-- Analysis-input: dichotomous
-- Window: per_window
-- Columns:
--   study_id          study
--   label             forest-plot label
--   year              publication year
--   outcome           event outcome code
--   window            time window label
--   timepoint_weeks   the time point used
--   events1           experimental events (combined)
--   n1                experimental n (combined)
--   events2           control events
--   n2                control n
--   combined_arms     experimental arm ids used, joined with '+'
--   route             route ('unknown' when not given)
--   etiology          etiology ('unknown' when not given)
--   cell_type         cell product ('unknown' when not given)
--   dose_class        low, high, unknown
--   design            rct, quasi_rct, non_randomised, unclear
--   overlap_group     shared-patients group id
--   flags             combination and derivation flags (semicolon-separated)
--   control_arms      control arm ids used
--   timepoint_choice  'only time point in window' or which of several was kept
--   window_order      time_windows.sort_order
CREATE OR REPLACE VIEW dichotomous_pairs AS
WITH v AS (
    SELECT
        d.study_id, d.arm_id, a.role, d.outcome, d.timepoint_weeks, d.events,
        coalesce(d.n, a.n_analysed, a.n_randomised) AS n,
        CASE
            WHEN d.n IS NOT NULL THEN NULL
            WHEN a.n_analysed IS NOT NULL THEN 'n_from_arms.n_analysed'
            ELSE 'n_from_arms.n_randomised'
        END AS n_flag,
        w.label AS "window", w.centre_weeks, w.sort_order AS window_order,
        row_number() OVER (
            PARTITION BY d.study_id, d.arm_id, d.outcome, d.timepoint_weeks
            ORDER BY coalesce(p.preference, 999), d.source_id
        ) AS source_rank
    FROM dichotomous_outcomes AS d
    JOIN arms AS a ON a.study_id = d.study_id AND a.arm_id = d.arm_id
    JOIN study_attributes AS s ON s.study_id = d.study_id AND s.included
    JOIN time_windows AS w
        ON d.timepoint_weeks >= w.lower_weeks AND d.timepoint_weeks < w.upper_weeks
    LEFT JOIN source_preference AS p ON p.source_id = d.source_id
    WHERE d.status = 'extracted' AND d.events IS NOT NULL
        AND coalesce(d.n, a.n_analysed, a.n_randomised) IS NOT NULL
),
usable AS (
    SELECT * FROM v WHERE source_rank = 1
),
selected AS (
    SELECT u.*
    FROM usable AS u
    WHERE u.role = 'control'
        OR u.arm_id = 'msc'
        OR NOT EXISTS (
            SELECT 1 FROM usable AS m
            WHERE m.arm_id = 'msc' AND m.role = 'experimental'
                AND m.study_id = u.study_id AND m.outcome = u.outcome
                AND m.timepoint_weeks = u.timepoint_weeks
        )
),
grouped AS (
    SELECT
        study_id, outcome, "window", centre_weeks, window_order, timepoint_weeks, role,
        count(*) AS k,
        sum(events) AS events_g,
        sum(n) AS n_g,
        string_agg(arm_id, '+' ORDER BY arm_id) AS arms,
        list(n_flag) AS flag_list
    FROM selected
    GROUP BY study_id, outcome, "window", centre_weeks, window_order, timepoint_weeks, role
),
pairs AS (
    SELECT
        e.study_id, e.outcome, e."window", e.centre_weeks, e.window_order, e.timepoint_weeks,
        e.events_g AS events1, e.n_g AS n1, c.events_g AS events2, c.n_g AS n2,
        e.arms AS combined_arms, c.arms AS control_arms,
        list_concat(e.flag_list, list_concat(
            c.flag_list, [
                CASE WHEN e.k > 1 THEN 'experimental_arms_combined' END,
                CASE WHEN c.k > 1 THEN 'control_arms_combined' END
            ]
        )) AS flag_list
    FROM grouped AS e
    JOIN grouped AS c
        ON c.study_id = e.study_id AND c.outcome = e.outcome
        AND c.timepoint_weeks = e.timepoint_weeks AND c.role = 'control'
    WHERE e.role = 'experimental'
),
ranked AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY study_id, outcome, "window"
            ORDER BY abs(timepoint_weeks - centre_weeks), timepoint_weeks
        ) AS rk,
        count(*) OVER (PARTITION BY study_id, outcome, "window") AS n_candidates,
        list(CAST(timepoint_weeks AS VARCHAR) || ' wk')
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
    r.events1,
    r.n1,
    r.events2,
    r.n2,
    r.combined_arms,
    s.route,
    s.etiology,
    s.cell_type,
    s.dose_class,
    s.design,
    s.overlap_group,
    nullif(array_to_string(list_sort(list_distinct(r.flag_list)), ';'), '') AS flags,
    r.control_arms,
    CASE
        WHEN r.n_candidates = 1 THEN 'only time point in window'
        ELSE 'kept ' || CAST(r.timepoint_weeks AS VARCHAR)
             || ' wk (closest to the window centre ' || CAST(r.centre_weeks AS VARCHAR)
             || ' wk) of: ' || array_to_string(list_sort(r.candidates), ', ')
    END AS timepoint_choice,
    r.window_order
FROM ranked AS r
JOIN study_attributes AS s ON s.study_id = r.study_id
WHERE r.rk = 1
ORDER BY r.outcome, r.window_order, s.year, r.study_id;
