"""Willow's benchmark: a load generator that measures Willow and the raw limit in one run.

`python -m bench --short` (a few minutes) or `python -m bench --full`; see bench/README.md.
"""
