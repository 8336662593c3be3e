-- View: source_preference
-- Purpose: which source wins when the same arm, outcome and time point is extracted from more
--   than one source (the primary keys of the outcome tables include source_id). Order: primary
--   before secondary before internal; then erratum, article, conference abstract, abstract,
--   registry, review, search log; then source_id. Rank 1 is preferred.
-- Columns:
--   source_id       sources.source_id
--   kind            primary, secondary, internal
--   source_type     article, abstract, registry, ...
--   preference      sort key: smaller is preferred
CREATE OR REPLACE VIEW source_preference AS
SELECT
    source_id,
    kind,
    source_type,
    (CASE kind WHEN 'primary' THEN 0 WHEN 'secondary' THEN 100 ELSE 200 END)
    + (CASE source_type
        WHEN 'erratum' THEN 0
        WHEN 'article' THEN 1
        WHEN 'conference_abstract' THEN 2
        WHEN 'abstract' THEN 3
        WHEN 'registry' THEN 4
        WHEN 'review' THEN 5
        ELSE 6
    END) AS preference
FROM sources;
