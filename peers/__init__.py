"""Willow's peers package."""
