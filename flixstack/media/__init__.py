"""The media pipeline: probe, per-title ladder, encode, CMAF packaging (HLS + DASH).

A pure local library (ffmpeg and PyAV, no AWS); :func:`flixstack.media.pipeline.transcode`
is the entry point. Modules, in the order a transcode uses them:

- ``probe``: what a source is (PyAV); InvalidMedia for what can never be transcoded;
- ``ladder``: Apple's fixed ladder; the convex hull and rung selection (pure);
- ``analysis``: per-title trial encodes scored with VMAF;
- ``encode``: one decode, every rung (libx264, two passes) + AAC into CMAF fMP4;
- ``thumbnails``: scrub-preview sprites, their WebVTT track, the poster;
- ``subtitles``: SRT/WebVTT sidecars to WebVTT;
- ``package``: HLS playlists and the DASH MPD from the segments' own boxes;
- ``ffmpeg``: running the bundled ffmpeg with progress; ``errors``; ``samples``: test videos.
"""
