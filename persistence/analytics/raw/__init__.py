"""The analytics report computed from the raw rows, never from the rollups: the reference
the rollups are tested against, and the answer for a time zone the rollups do not keep.

Rows are chosen by time (and store) in SQL and put into local days in Python; money is
added in Python (SQLite keeps it as text). Nothing is shared with the rollups but
domain.analytics, so each implementation checks the other.
"""

from persistence.analytics.raw.report import raw_report

__all__ = ["raw_report"]
