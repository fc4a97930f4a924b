"""Playback: entitlement, signed multi-CDN access, content keys."""
