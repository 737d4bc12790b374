"""Broker channels and sender labels that more than one feature names."""

from __future__ import annotations

# Advisers and supervisors on duty: queue news.
STAFF_CHANNEL = "staff"
# Alerts for supervisors (risk flags, escalations, reports).
SUPERVISORS_CHANNEL = "supervisors"
# The `sender` of everything she writes in a stream.
VISITOR = "visitor"


def staff_sender(staff_id: int) -> str:
    """The `sender` of what a member of staff writes in a stream."""
    return f"staff:{staff_id}"
