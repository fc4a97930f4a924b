"""``flixstack ingest``: uploads a video through the API, as an admin's tool would.

Creates the title, asks for a presigned multipart upload, PUTs the subtitle sidecar and
the parts (with a progress bar), completes the upload, then follows the job until it
ends.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from flixstack.media.jobs import TERMINAL, JobState
from flixstack.media.ladder import LadderMode

_LANGUAGE_IN_NAME = re.compile(r"\.([a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?)\.(?:srt|vtt)$", re.IGNORECASE)


class IngestError(RuntimeError):
    """The API refused a step; the message carries its reason."""


def subtitle_language(path: Path, explicit: str | None) -> str:
    """``--subtitle-language``, else the language in ``name.<lang>.srt``."""
    if explicit:
        return explicit
    match = _LANGUAGE_IN_NAME.search(path.name)
    if match is None:
        raise IngestError(
            f"cannot tell the language of {path.name}: name it like movie.en.srt or pass --subtitle-language"
        )
    return match.group(1).lower()


@dataclass(frozen=True)
class IngestRequest:
    path: Path
    title: str
    ladder: LadderMode
    subtitles: Path | None = None
    subtitle_language: str | None = None


class IngestClient:
    def __init__(
        self,
        api: str | httpx.Client,
        console: Console | None = None,
        timeout: float = 60.0,
        token: str | None = None,
    ) -> None:
        """``api`` is the API's base URL, or a client bound to it (a test client, say);
        ``token`` an admin's access token (else the client's own headers must carry one)."""
        self._api = (
            api
            if isinstance(api, httpx.Client)
            else httpx.Client(base_url=api.rstrip("/"), timeout=timeout)
        )
        if token is not None:
            self._api.headers["Authorization"] = f"Bearer {token}"
        self._transfer = httpx.Client(timeout=timeout)
        self._console = console or Console(stderr=True, quiet=True)

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._api.request(method, path, **kwargs)
        if response.is_error:
            try:
                detail = response.json()
            except ValueError:
                detail = response.text
            raise IngestError(f"{method} {path} → {response.status_code}: {detail}")
        body: dict[str, Any] = response.json()
        return body

    def upload(self, request: IngestRequest) -> dict[str, Any]:
        """Title, upload, parts, completion; returns the queued job."""
        size = request.path.stat().st_size
        title = self._call("POST", "/admin/titles", json={"name": request.title})
        subtitles = []
        if request.subtitles is not None:
            language = subtitle_language(request.subtitles, request.subtitle_language)
            subtitles = [{"language": language, "filename": request.subtitles.name}]
        ticket = self._call(
            "POST",
            f"/admin/titles/{title['id']}/uploads",
            json={
                "filename": request.path.name,
                "size_bytes": size,
                "content_type": "video/mp4",
                "ladder": request.ladder,
                "subtitles": subtitles,
            },
        )
        for sidecar in ticket["subtitles"]:
            assert request.subtitles is not None
            self._put(sidecar["url"], request.subtitles.read_bytes())
        parts = []
        with Progress(
            TextColumn("[bold]upload"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=self._console,
            transient=True,
        ) as progress:
            task = progress.add_task("", total=size)
            with request.path.open("rb") as source:
                for part in ticket["parts"]:
                    chunk = source.read(ticket["part_size_bytes"])
                    etag = self._put(part["url"], chunk)
                    parts.append({"part_number": part["part_number"], "etag": etag})
                    progress.advance(task, len(chunk))
        return self._call("POST", ticket["complete_path"], json={"parts": parts})

    def _put(self, url: str, body: bytes) -> str:
        for attempt in range(3):
            try:
                response = self._transfer.put(url, content=body)
                response.raise_for_status()
                return str(response.headers.get("ETag", "")).strip('"')
            except httpx.HTTPError:
                if attempt == 2:
                    raise
                time.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")

    def follow(self, job_id: str, poll_s: float = 0.5) -> dict[str, Any]:
        """Shows the job's stage and percent until it ends; returns the final job."""
        with Progress(
            TextColumn("[bold]{task.fields[state]}"),
            TextColumn("{task.fields[stage]}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=self._console,
            transient=True,
        ) as progress:
            task = progress.add_task("", total=100, state="QUEUED", stage="")
            while True:
                job = self._call("GET", f"/admin/jobs/{job_id}")
                progress.update(
                    task, completed=job["percent"], state=job["state"], stage=job.get("stage") or ""
                )
                if JobState(job["state"]) in TERMINAL:
                    return job
                time.sleep(poll_s)

    def publish(self, title_id: str, territories: list[str], days: int) -> dict[str, Any]:
        """Licenses the title in ``territories`` from now for ``days`` and publishes it
        (each step carries the version the previous one returned)."""
        title = self._call("GET", f"/admin/titles/{title_id}")
        start = datetime.now(UTC).replace(microsecond=0)
        licences = [
            {
                "territory": t,
                "start": start.isoformat(),
                "end": (start + timedelta(days=days)).isoformat(),
            }
            for t in territories
        ]
        title = self._call(
            "PUT",
            f"/admin/titles/{title_id}/licences",
            json={"version": title["version"], "licences": licences},
        )
        return self._call(
            "POST", f"/admin/titles/{title_id}/publish", json={"version": title["version"]}
        )


def summary(job: dict[str, Any]) -> dict[str, Any]:
    """The one JSON object ``flixstack ingest --json`` prints."""
    return {
        "title_id": job["title_id"],
        "job_id": job["id"],
        "state": job["state"],
        "master_playlist_url": job.get("master_playlist_url"),
        "dash_manifest_url": job.get("dash_manifest_url"),
        "renditions": [
            {"height": r["height"], "width": r["width"], "bandwidth": r["bandwidth"]}
            for r in job.get("renditions", [])
        ],
        "error": job.get("error"),
    }
