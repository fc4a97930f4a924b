"""flixstack: a video-on-demand platform defined as code."""

__version__ = "0.1.0"
