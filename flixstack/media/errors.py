"""Errors of the media pipeline.

:class:`InvalidMedia` is permanent: the source (or a sidecar) can never be transcoded, so a
worker fails the job at once instead of retrying. :class:`EncodeFailed` means ffmpeg failed on
a source that probed as valid; it may be transient (disk full, killed process) and is retried.
"""

from __future__ import annotations

from typing import Literal, get_args

from flixstack.errors import FlixstackError, InvalidInput

InvalidMediaReason = Literal[
    "not_video", "corrupt", "zero_duration", "too_large", "too_long", "bad_subtitles"
]
INVALID_MEDIA_REASONS: frozenset[str] = frozenset(get_args(InvalidMediaReason))


class InvalidMedia(InvalidInput):
    """The input can never be transcoded; ``reason`` is one of :data:`INVALID_MEDIA_REASONS`."""

    reason: InvalidMediaReason

    def __init__(self, message: str, *, reason: InvalidMediaReason) -> None:
        super().__init__(message, reason=reason)


class EncodeFailed(FlixstackError):
    """ffmpeg failed on a source that probed as valid; ``stderr`` holds its last lines."""

    reason = "encode_failed"

    def __init__(self, message: str, *, stderr: str = "") -> None:
        super().__init__(f"{message}: {stderr}" if stderr else message)
        self.stderr = stderr
