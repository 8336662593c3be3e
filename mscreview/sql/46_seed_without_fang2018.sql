-- View: seed_without_fang2018
-- Purpose: the seed's sensitivity analysis: the overall (main window) pool without Fang 2018, which
--   the seed named as the likely source of heterogeneity in albumin.
-- Analysis-input: continuous
-- Window: main
-- Grouping: none
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
--   subgroup          NULL: no subgroups
CREATE OR REPLACE VIEW seed_without_fang2018 AS
SELECT
    p.*,
    CAST(NULL AS VARCHAR) AS subgroup
FROM arm_pairs AS p
WHERE p."window" = (SELECT label FROM time_windows WHERE is_main)
    AND p.study_id <> 'fang2018'
ORDER BY p.outcome, p.window_order, subgroup, p.year, p.study_id;
