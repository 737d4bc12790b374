"""Willow's moderation package."""
