"""Willow's chat package."""
