"""Tests of the DuckDB layer (mscreview.store, sql/, the analysis plan)."""
