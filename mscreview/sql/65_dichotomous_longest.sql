-- View: dichotomous_longest
-- Purpose: one row per included study and event outcome at the study's longest follow-up
--   (the latest window of dichotomous_pairs, baseline excluded): the input of mortality and
--   HCC pools across trials of different length (time_window 'any' in analyses.csv). Each
--   study enters once, so no patients are counted twice.
-- Analysis-input: dichotomous
-- Window: longest
-- Grouping: none
-- Columns:
--   study_id          see dichotomous_pairs
--   label             see dichotomous_pairs
--   year              see dichotomous_pairs
--   outcome           see dichotomous_pairs
--   window            see dichotomous_pairs
--   timepoint_weeks   see dichotomous_pairs
--   events1           see dichotomous_pairs
--   n1                see dichotomous_pairs
--   events2           see dichotomous_pairs
--   n2                see dichotomous_pairs
--   combined_arms     see dichotomous_pairs
--   route             see dichotomous_pairs
--   etiology          see dichotomous_pairs
--   cell_type         see dichotomous_pairs
--   dose_class        see dichotomous_pairs
--   design            see dichotomous_pairs
--   overlap_group     see dichotomous_pairs
--   flags             see dichotomous_pairs
--   control_arms      see dichotomous_pairs
--   timepoint_choice  see dichotomous_pairs
--   window_order      see dichotomous_pairs
--   subgroup          NULL: no subgroups
CREATE OR REPLACE VIEW dichotomous_longest AS
SELECT
    d.*,
    CAST(NULL AS VARCHAR) AS subgroup
FROM dichotomous_pairs AS d
WHERE d."window" <> 'baseline'
QUALIFY row_number() OVER (
    PARTITION BY d.study_id, d.outcome ORDER BY d.timepoint_weeks DESC
) = 1
ORDER BY d.outcome, d.year, d.study_id;
