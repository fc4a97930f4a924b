"""Test and demo videos from ffmpeg's lavfi sources only: nothing is downloaded.

Four kinds span the complexity range a per-title ladder has to handle; at 1280x720, CRF 23
(x264 veryfast) they need very roughly 70 kb/s (animation), 250 kb/s (talking), 5 Mb/s
(sports) and 14 Mb/s (noise):

- ``animation``: flat colour fields with two flat shapes gliding over them;
- ``talking``: a detailed, still background (a Mandelbrot close-up), one slowly swaying
  shape in front of it and light sensor grain: low motion;
- ``sports``: a fast, irregular camera pan over a highly detailed scene and a ball crossing
  it: high motion;
- ``noise``: a detailed pan buried in strong temporal noise: very complex.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from flixstack.media import ffmpeg

SampleKind = Literal["animation", "talking", "sports", "noise"]
KINDS: tuple[SampleKind, ...] = get_args(SampleKind)
FRAME_RATE = 30
TONE_HZ = 440


def generate(
    out: Path,
    *,
    seconds: float,
    width: int,
    height: int,
    kind: SampleKind,
    audio: bool = True,
) -> Path:
    """Writes an H.264 (+ stereo AAC sine tone unless ``audio=False``) MP4 of ``kind``.

    The picture is encoded at high quality (CRF 16) so it can serve as a master.
    """
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, not {seconds}")
    if width < 16 or height < 16 or width % 2 or height % 2:
        raise ValueError(f"size must be even and at least 16x16, not {width}x{height}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    args = ["-f", "lavfi", "-i", f"{_picture(kind, width, height)},format=yuv420p"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency={TONE_HZ}:sample_rate=48000"]
    args += ["-t", f"{seconds:.3f}", "-map", "0:v"]
    args += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-r", str(FRAME_RATE)]
    if audio:
        args += ["-map", "1:a", "-c:a", "aac", "-b:a", "160k", "-ac", "2"]
    args += ["-movflags", "+faststart", str(out)]
    ffmpeg.run(ffmpeg.Job(args, what=f"generating a {kind} sample", duration_s=seconds))
    return out


def _picture(kind: SampleKind, width: int, height: int) -> str:
    """A lavfi filter graph that draws ``kind`` at ``width`` x ``height``."""
    size = f"{width}x{height}"
    rate = FRAME_RATE
    if kind == "animation":
        return (
            f"color=c=0x2a6fd6:s={size}:r={rate}[bg];"
            f"color=c=0xf0c020:s={_even(width / 4)}x{_even(width / 4)}:r={rate}[sun];"
            f"color=c=0xe04040:s={_even(width / 7)}x{_even(width / 10)}:r={rate}[car];"
            "[bg][sun]overlay=x='(W-w)/2+(W-w)/2*sin(t)':y='(H-h)/2+(H-h)/3*cos(1.3*t)'[a];"
            "[a][car]overlay=x='mod(t*W/5,W)':y='H*0.7'"
        )
    if kind == "talking":
        return (
            f"{_still(size, 0.05)}[bg];"
            f"color=c=0xd8a080:s={_even(width / 5)}x{_even(height / 3)}:r={rate}[face];"
            "[bg][face]overlay=x='(W-w)/2+W/40*sin(0.8*t)':y='(H-h)/2+H/60*sin(1.7*t)',"
            "noise=alls=2:allf=t"
        )
    if kind == "sports":
        return (
            f"{_still(f'{2 * width}x{2 * height}', 0.01)},"
            f"crop=w={width}:h={height}:x='(iw-ow)*(0.5+0.5*sin(1.3*t))'"
            ":y='(ih-oh)*(0.5+0.5*cos(0.9*t))'[bg];"
            f"color=c=white:s={_even(width / 20)}x{_even(width / 20)}:r={rate}[ball];"
            "[bg][ball]overlay=x='mod(0.9*t*W,W)':y='H/2+H/3*sin(3*t)',noise=alls=3:allf=t"
        )
    return (
        f"{_still(f'{2 * width}x{2 * height}', 0.005)},"
        f"crop=w={width}:h={height}:x='(iw-ow)*(0.5+0.5*sin(0.7*t))':y='(ih-oh)/2',"
        "noise=alls=40:allf=t+u"
    )


def _still(size: str, scale: float) -> str:
    """One Mandelbrot frame, rendered once and repeated (rendering every frame is slow)."""
    return (
        f"mandelbrot=s={size}:r={FRAME_RATE}:start_scale={scale}:end_scale={scale}"
        ":outer=normalized_iteration_count:maxiter=256,"
        f"trim=end_frame=1,loop=loop=-1:size=1,setpts=N/{FRAME_RATE}/TB"
    )


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))
