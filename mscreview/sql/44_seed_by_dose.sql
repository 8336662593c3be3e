-- View: seed_by_dose
-- Purpose: dose subgroups, main window: low <= 1e6 cells/kg, high above, unknown when
--   studies.cells_per_kg is missing (study_attributes.dose_class).
-- Analysis-input: continuous
-- Window: main
-- Grouping: dose_class
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
--   subgroup          dose_class: low, high, unknown
CREATE OR REPLACE VIEW seed_by_dose AS
SELECT
    p.*,
    p.dose_class AS subgroup
FROM arm_pairs AS p
WHERE p."window" = (SELECT label FROM time_windows WHERE is_main)
ORDER BY p.outcome, p.window_order, subgroup, p.year, p.study_id;
