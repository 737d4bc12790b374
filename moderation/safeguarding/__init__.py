"""Safeguarding actions: flags, alerts, helplines cards, escalations and reports (with I/O)."""
