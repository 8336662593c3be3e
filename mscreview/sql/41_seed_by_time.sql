-- View: seed_by_time
-- Purpose: one pool per outcome and time window (the seed's time subgroups), baseline excluded.
--   Each window is its own analysis: the seed's total across windows counted the same
--   patients several times and is not computed from this view.
-- Analysis-input: continuous
-- Window: per_window
-- Columns:
--   study_id          see arm_pairs
--   label             see arm_pairs
--   year              see arm_pairs
--   outcome           see arm_pairs
--   window            see arm_pairs
--   timepoint_weeks   see arm_pairs
--   unit              see arm_pairs
--   n1                see arm_pairs
--   mean1             see arm_pairs
--   sd1               see arm_pairs
--   n2                see arm_pairs
--   mean2             see arm_pairs
--   sd2               see arm_pairs
--   combined_arms     see arm_pairs
--   route             see arm_pairs
--   etiology          see arm_pairs
--   cell_type         see arm_pairs
--   dose_class        see arm_pairs
--   design            see arm_pairs
--   overlap_group     see arm_pairs
--   flags             see arm_pairs
--   value_type        see arm_pairs
--   smd_only          see arm_pairs
--   control_arms      see arm_pairs
--   timepoint_choice  see arm_pairs
--   window_order      see arm_pairs
--   subgroup          the window label
CREATE OR REPLACE VIEW seed_by_time AS
SELECT
    p.*,
    p."window" AS subgroup
FROM arm_pairs AS p
WHERE p."window" <> 'baseline'
ORDER BY p.outcome, p.window_order, subgroup, p.year, p.study_id;
