-- View: time_windows
-- Purpose: the analysis time points. A value at timepoint_weeks belongs to the window with
--   lower_weeks <= timepoint_weeks < upper_weeks (1 month = 4.345 weeks, as in the data).
--   Each pooled estimate uses one window, and a study enters it with one time point (the one
--   closest to centre_weeks; see arm_pairs). Windows and the values they catch in the data:
--     baseline   [0, 0.5)      0
--     1 week     [0.5, 1.5)    1
--     2 weeks    [1.5, 3)      2
--     1 month    [3, 6.5)      3, 4, 4.3
--     2 months   [6.5, 10.5)   8, 8.7
--     3 months   [10.5, 16)    12, 13           <- the main window (is_main)
--     4 months   [16, 20)      17.4
--     6 months   [20, 31)      24, 26.1
--     9 months   [31, 44)      36, 39.1
--     12 months  [44, 60)      48, 52.1
--     18 months  [60, 91)      78.2
--     24 months  [91, 130)     104.3
--     36 months  [130, 182)    156.4
--     48 months  [182, 234)    192, 208.6
--     60 months  [234, 287)    260.7
--     > 60 months [287, 1e9)  312.9, 325.9 (upper bound = no limit)
--   The main window: the seed review's "overall" pools mixed each study's own time point (from
--   2 weeks to 12 months), so we define the primary ("main") analysis at 3 months, the time
--   point reported by most trials; analyses.csv's time_window 'main' means this window.
--   Gaps would leave a value unpooled, so the windows are contiguous.
-- Columns:
--   label           window label used in analyses.csv and reports
--   lower_weeks     inclusive lower bound (weeks)
--   upper_weeks     exclusive upper bound (weeks)
--   centre_weeks    the nominal time point; the tie-breaker for two values in one window
--   sort_order      display order
--   is_main         true for the main window (3 months)
CREATE OR REPLACE VIEW time_windows AS
SELECT
    label,
    CAST(lower_weeks AS DOUBLE) AS lower_weeks,
    CAST(upper_weeks AS DOUBLE) AS upper_weeks,
    CAST(centre_weeks AS DOUBLE) AS centre_weeks,
    CAST(sort_order AS INTEGER) AS sort_order,
    is_main
FROM (
    VALUES
        ('baseline', 0.0, 0.5, 0.0, 0, false),
        ('1 week', 0.5, 1.5, 1, 1, false),
        ('2 weeks', 1.5, 3, 2, 2, false),
        ('1 month', 3, 6.5, 4.3, 3, false),
        ('2 months', 6.5, 10.5, 8.7, 4, false),
        ('3 months', 10.5, 16, 13, 5, true),
        ('4 months', 16, 20, 17.4, 6, false),
        ('6 months', 20, 31, 26.1, 7, false),
        ('9 months', 31, 44, 39.1, 8, false),
        ('12 months', 44, 60, 52.1, 9, false),
        ('18 months', 60, 91, 78.2, 10, false),
        ('24 months', 91, 130, 104.3, 11, false),
        ('36 months', 130, 182, 156.4, 12, false),
        ('48 months', 182, 234, 208.6, 13, false),
        ('60 months', 234, 287, 260.7, 14, false),
        ('> 60 months', 287, 1e9, 312.9, 15, false)
) AS w(label, lower_weeks, upper_weeks, centre_weeks, sort_order, is_main);
