"""The one layer that wires the others: stats, validate, store and report.

``cli`` imports only this package; each module here implements one verb.
"""
