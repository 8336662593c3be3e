-- View: study_attributes
-- Purpose: the study-level covariates every analysis set groups or filters by, in one place, so
--   arm_pairs and dichotomous_pairs classify a study the same way.
--   dose_class: 'low' when studies.cells_per_kg <= 1e6 cells/kg, 'high' above, 'unknown' when
--   missing. cells_per_kg is cells per kg per infusion as the source gives it (the seed review
--   split at 1x10^6 cells/kg: "low dose (1x10^6 cells/kg)" vs "high dose (1.0-3.9x10^7)").
-- Columns:
--   study_id        studies.study_id
--   label           forest-plot label ('Surname Year')
--   year            publication year
--   included        whether the trial enters the analyses
--   design          rct, quasi_rct, non_randomised, unclear
--   route           route of administration ('unknown' when not given)
--   etiology        cause of cirrhosis ('unknown' when not given)
--   cell_type       cell product ('unknown' when not given)
--   cells_per_kg    cells per kg per infusion (NULL when not given per kg)
--   dose_class      low (<= 1e6 cells/kg), high (> 1e6), unknown
--   overlap_group   trials sharing patients share this id; a pool never takes two of them
CREATE OR REPLACE VIEW study_attributes AS
SELECT
    study_id,
    label,
    year,
    included,
    design,
    coalesce(route, 'unknown') AS route,
    coalesce(etiology, 'unknown') AS etiology,
    coalesce(cell_type, 'unknown') AS cell_type,
    cells_per_kg,
    CASE
        WHEN cells_per_kg IS NULL THEN 'unknown'
        WHEN cells_per_kg <= 1e6 THEN 'low'
        ELSE 'high'
    END AS dose_class,
    overlap_group
FROM studies;
