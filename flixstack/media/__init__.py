"""The media pipeline: probe, per-title ladder, encode, CMAF packaging (HLS + DASH)."""
