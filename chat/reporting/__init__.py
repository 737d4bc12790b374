"""Anonymised reporting: daily counts kept apart from every chat, small numbers suppressed."""
