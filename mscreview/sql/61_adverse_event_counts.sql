-- View: adverse_event_counts
-- Purpose: extracted adverse events per study, arm and event term (the seed's Table 2), with
--   the arm size they came from. arm_id 'experimental' means the source counted all
--   experimental arms together; its n is the sum of the experimental arms' n. Descriptive:
--   counts are "as the source counts them" (events or patients with the event).
-- Columns:
--   study_id      study
--   label         forest-plot label
--   included      whether the trial enters the analyses
--   arm_id        arm, or 'experimental' for all experimental arms together
--   role          control or experimental
--   event         event term (fever, shivering, any, serious, ...)
--   events        count as the source gives it
--   n             patients in the arm(s): n_analysed, else n_randomised (NULL if unknown)
--   serious       serious adverse event
--   as_reported   the source's words
--   source_id     source
--   locator       where in the source
CREATE OR REPLACE VIEW adverse_event_counts AS
WITH arm_n AS (
    SELECT study_id, arm_id, role, coalesce(n_analysed, n_randomised) AS n
    FROM arms
    UNION ALL
    SELECT study_id, 'experimental' AS arm_id, 'experimental' AS role,
        CASE WHEN count(*) = count(coalesce(n_analysed, n_randomised))
            THEN sum(coalesce(n_analysed, n_randomised)) END AS n
    FROM arms
    WHERE role = 'experimental' AND (arm_id = 'msc' OR NOT EXISTS (
        SELECT 1 FROM arms AS m
        WHERE m.study_id = arms.study_id AND m.arm_id = 'msc'
    ))
    GROUP BY study_id
)
SELECT
    ae.study_id,
    s.label,
    s.included,
    ae.arm_id,
    coalesce(an.role, CASE WHEN ae.arm_id = 'experimental' THEN 'experimental' END) AS role,
    ae.event,
    ae.events,
    an.n,
    ae.serious,
    ae.as_reported,
    ae.source_id,
    ae.locator
FROM adverse_events AS ae
JOIN study_attributes AS s ON s.study_id = ae.study_id
LEFT JOIN arm_n AS an ON an.study_id = ae.study_id AND an.arm_id = ae.arm_id
WHERE ae.status = 'extracted'
ORDER BY ae.event, s.year, ae.study_id, ae.arm_id;
