"""Helpers for the face recognition and privacy course."""
