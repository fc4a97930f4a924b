"""Lambda entry points: a few lines each, delegating to ``flixstack``."""
