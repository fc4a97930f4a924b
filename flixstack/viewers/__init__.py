"""Viewers: accounts, profiles, progress, history, My List, ratings."""
