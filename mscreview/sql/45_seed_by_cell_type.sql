-- View: seed_by_cell_type
-- Purpose: cell-product subgroups (BM-MSC, UC-MSC, ...), main window. The seed review did not run
--   this (too few studies); it is offered for the living review.
-- Analysis-input: continuous
-- Window: main
-- Grouping: cell_type
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
--   subgroup          studies.cell_type, 'unknown' when missing
CREATE OR REPLACE VIEW seed_by_cell_type AS
SELECT
    p.*,
    p.cell_type AS subgroup
FROM arm_pairs AS p
WHERE p."window" = (SELECT label FROM time_windows WHERE is_main)
ORDER BY p.outcome, p.window_order, subgroup, p.year, p.study_id;
