-- View: missing_values
-- Purpose: the report's call for data: every arm size, continuous, dichotomous, adverse-event
--   and study-level effect row whose status is not 'extracted', with where it should be found.
-- Columns:
--   kind             arm_size, continuous, dichotomous, adverse_event, study_effect
--   study_id         study
--   label            forest-plot label
--   included         whether the trial enters the analyses
--   arm_id           arm (NULL for study-level effects)
--   outcome          outcome code, event term, or NULL for arm sizes
--   timepoint_weeks  weeks since infusion (NULL where not applicable)
--   timepoint_label  the source's words
--   status           not_reported, not_reachable, not_applicable, not_yet_extracted
--   source_id        source that holds (or should hold) the value
--   locator          where in the source
CREATE OR REPLACE VIEW missing_values AS
WITH rows AS (
    SELECT 'arm_size' AS kind, study_id, arm_id, CAST(NULL AS VARCHAR) AS outcome,
        CAST(NULL AS DOUBLE) AS timepoint_weeks, CAST(NULL AS VARCHAR) AS timepoint_label,
        status, source_id, locator
    FROM arms WHERE status <> 'extracted'
    UNION ALL
    SELECT 'continuous', study_id, arm_id, outcome, timepoint_weeks, timepoint_label,
        status, source_id, locator
    FROM continuous_outcomes WHERE status <> 'extracted'
    UNION ALL
    SELECT 'dichotomous', study_id, arm_id, outcome, timepoint_weeks, timepoint_label,
        status, source_id, locator
    FROM dichotomous_outcomes WHERE status <> 'extracted'
    UNION ALL
    SELECT 'adverse_event', study_id, arm_id, event, NULL, NULL,
        status, source_id, locator
    FROM adverse_events WHERE status <> 'extracted'
    UNION ALL
    SELECT 'study_effect', study_id, NULL, outcome, timepoint_weeks, timepoint_label,
        status, source_id, locator
    FROM study_effects WHERE status <> 'extracted'
)
SELECT
    r.kind,
    r.study_id,
    s.label,
    s.included,
    r.arm_id,
    r.outcome,
    r.timepoint_weeks,
    r.timepoint_label,
    r.status,
    r.source_id,
    r.locator
FROM rows AS r
LEFT JOIN study_attributes AS s ON s.study_id = r.study_id
ORDER BY s.label, r.kind, r.outcome, r.timepoint_weeks, r.arm_id, r.source_id;
