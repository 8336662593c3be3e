-- View: hazard_ratios
-- Purpose: the statistics engine's input for survival: hazard ratios as the trials report them
--   (study_effects, measure HR, status 'extracted', an estimate with its 95% CI), one row per
--   included study and outcome, at the study's longest follow-up; pooled by generic inverse
--   variance of log HR (SE = (ln upper - ln lower) / (2 x 1.959964), Cochrane Handbook 6.3.1).
--   One source per study and outcome (view source_preference). A reported HR is the trial's own
--   analysis (often an adjusted Cox model); the source and locator are carried so the report can
--   say so. Arm sizes come from arms (msc, else the experimental arms added; control).
-- Analysis-input: generic
-- Window: longest
-- Grouping: none
-- Columns:
--   study_id          study
--   label             forest-plot label
--   year              publication year
--   outcome           death (overall survival), hcc (HCC-free survival), ...
--   window            NULL: each study's own follow-up
--   timepoint_weeks   follow-up of the hazard ratio
--   timepoint_label   the source's words
--   estimate          hazard ratio (experimental vs control)
--   ci_low            lower 95% limit
--   ci_high           upper 95% limit
--   n1                experimental participants (arms; NULL if unknown)
--   n2                control participants (arms; NULL if unknown)
--   design            rct, quasi_rct, non_randomised, unclear
--   overlap_group     shared-patients group id
--   flags             hr_as_reported;se_from_ci95
--   source_id         source of the hazard ratio
--   locator           where in the source
CREATE OR REPLACE VIEW hazard_ratios AS
WITH arm_n AS (
    SELECT
        study_id,
        coalesce(
            max(CASE WHEN arm_id = 'msc' THEN coalesce(n_analysed, n_randomised) END),
            sum(CASE WHEN role = 'experimental' AND arm_id <> 'msc'
                THEN coalesce(n_analysed, n_randomised) END)
        ) AS n1,
        sum(CASE WHEN role = 'control' THEN coalesce(n_analysed, n_randomised) END) AS n2
    FROM arms
    GROUP BY study_id
)
SELECT
    e.study_id,
    s.label,
    s.year,
    e.outcome,
    CAST(NULL AS VARCHAR) AS "window",
    e.timepoint_weeks,
    e.timepoint_label,
    e.estimate,
    e.ci_low,
    e.ci_high,
    n.n1,
    n.n2,
    s.design,
    s.overlap_group,
    'hr_as_reported;se_from_ci95' AS flags,
    e.source_id,
    e.locator
FROM study_effects AS e
JOIN study_attributes AS s ON s.study_id = e.study_id AND s.included
LEFT JOIN arm_n AS n ON n.study_id = e.study_id
LEFT JOIN source_preference AS p ON p.source_id = e.source_id
WHERE e.status = 'extracted' AND e.measure = 'HR' AND e.estimate IS NOT NULL
QUALIFY row_number() OVER (
    PARTITION BY e.study_id, e.outcome
    ORDER BY e.timepoint_weeks DESC, coalesce(p.preference, 999), e.source_id
) = 1
ORDER BY e.outcome, s.year, e.study_id;
