"""A media platform on the emulator: API (in-process), worker (in-process or a real
process we can SIGKILL), tiny generated clips, and checks on what got published."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import av
import m3u8
import pytest
from fastapi.testclient import TestClient

from flixstack import spec
from flixstack.aws.clients import AwsClients
from flixstack.aws.job_store import DynamoJobRepository
from flixstack.local.devserver import create_app
from flixstack.local.ingest import IngestClient, IngestRequest
from flixstack.media import encryption, samples
from flixstack.media.jobs import TERMINAL, Job, JobState
from flixstack.settings import Settings
from tests.integration.conftest import ADMIN, access_token

VISIBILITY_S = 4
HEARTBEAT_S = 1.0
EDGE_URL = "http://edge.test"
"""Where published media is served from in these tests (a local edge, in-process)."""


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s of low-motion 320x240 video with a tone."""
    return samples.generate(
        tmp_path_factory.mktemp("clips") / "clip.mp4",
        seconds=3,
        width=320,
        height=240,
        kind="talking",
    )


@pytest.fixture(scope="session")
def srt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("subs") / "clip.en.srt"
    path.write_text(
        "1\n00:00:00,500 --> 00:00:02,000\nHello, flixstack.\n\n2\n00:00:02,000 --> 00:00:02,900\nBye.\n"
    )
    return path


@dataclass
class MediaPlatform:
    settings: Settings
    clients: AwsClients
    api: TestClient
    work_dir: Path

    @property
    def jobs(self) -> DynamoJobRepository:
        return DynamoJobRepository(self.settings.naming.table(spec.JOBS), self.clients.dynamodb)

    @property
    def media_bucket(self) -> str:
        return self.settings.naming.bucket(spec.MEDIA)

    def upload(
        self,
        path: Path,
        *,
        ladder: str = "fixed",
        subtitles: Path | None = None,
        name: str = "Clip",
    ) -> Job:
        job = IngestClient(self.api).upload(IngestRequest(path, name, ladder, subtitles))  # type: ignore[arg-type]
        return self.jobs.get(job["id"])

    def queue_url(self, queue: spec.QueueSpec = spec.TRANSCODE) -> str:
        return self.clients.sqs.get_queue_url(QueueName=self.settings.naming.queue(queue))[
            "QueueUrl"
        ]

    def worker_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "AWS_ENDPOINT_URL": str(self.settings.endpoint),
            "FLIXSTACK_STAGE": self.settings.stage,
            "FLIXSTACK_TRANSCODE_VISIBILITY_S": str(VISIBILITY_S),
            "FLIXSTACK_TRANSCODE_HEARTBEAT_S": str(HEARTBEAT_S),
            "FLIXSTACK_WORK_DIR": str(self.work_dir),
        }

    def start_worker(self, log: Path) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "flixstack.media.worker", "poll"],
            env=self.worker_env(),
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_for(self, job_id: str, states: frozenset[JobState], timeout: float = 120) -> Job:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.jobs.get(job_id)
            if job.state in states:
                return job
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} did not reach {set(states)}: {self.jobs.get(job_id)}")

    def object(self, key: str) -> bytes:
        return self.clients.s3.get_object(Bucket=self.media_bucket, Key=key)["Body"].read()

    def keys(self, prefix: str) -> set[str]:
        paginator = self.clients.s3.get_paginator("list_objects_v2")
        return {
            o["Key"]
            for page in paginator.paginate(Bucket=self.media_bucket, Prefix=prefix)
            for o in page.get("Contents", [])
        }


@pytest.fixture
def media(
    bootstrapped: Settings, clients: AwsClients, tmp_path: Path, request: pytest.FixtureRequest
) -> MediaPlatform:
    """The API and settings of a media test; ``@pytest.mark.clear_media`` turns the
    AES-128 protection off (HLS and DASH in the clear, as for trailers)."""
    settings = bootstrapped.model_copy(
        update={
            "transcode_visibility_s": VISIBILITY_S,
            "transcode_heartbeat_s": HEARTBEAT_S,
            "work_dir": tmp_path / "work",
            "media_base_url": EDGE_URL,
            "protect_media": request.node.get_closest_marker("clear_media") is None,
        }
    )
    token = access_token(settings, clients, ADMIN, (spec.ADMIN_GROUP,))
    api = TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"})
    return MediaPlatform(settings, clients, api, tmp_path / "work")


@pytest.fixture
def worker_thread(media: MediaPlatform) -> Iterator[None]:
    """The worker, in-process, for as long as the test runs."""
    from flixstack.media.worker import JobRunner, QueueWorker

    stop = threading.Event()
    worker = QueueWorker(media.settings, media.clients, JobRunner(media.settings, media.clients))
    thread = threading.Thread(target=worker.poll, args=(stop,), kwargs={"wait_s": 1}, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=60)


def kill(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


FINISHED = TERMINAL


def manifest_uris(media: MediaPlatform, job: Job) -> set[str]:
    """Every object key the job's HLS and (unless protected) DASH manifests refer to."""
    assert job.master_playlist is not None
    keys: set[str] = set()
    master = m3u8.loads(media.object(job.master_playlist).decode())
    base = PurePosixPath(job.master_playlist).parent
    playlists = [p.uri for p in master.playlists] + [m.uri for m in master.media if m.uri]
    for uri in playlists:
        key = _join(base, uri)
        keys.add(key)
        playlist = m3u8.loads(media.object(key).decode())
        playlist_base = PurePosixPath(key).parent
        for segment_map in playlist.segment_map or []:
            keys.add(_join(playlist_base, segment_map.uri))
        keys.update(_join(playlist_base, segment.uri) for segment in playlist.segments)
    if job.dash_manifest is not None:
        dash = PurePosixPath(job.dash_manifest).parent
        keys.update(dash_uris(media.object(job.dash_manifest), dash))
    return keys


def _join(base: PurePosixPath, uri: str) -> str:
    parts: list[str] = []
    for part in (base / uri).parts:
        if part == "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def dash_uris(mpd: bytes, base: PurePosixPath) -> set[str]:
    """Segment keys an MPD's SegmentTemplate + SegmentTimeline (or BaseURL) expand to."""
    ns = {"d": "urn:mpeg:dash:schema:mpd:2011"}
    root = ET.fromstring(mpd)
    keys: set[str] = set()
    for adaptation in root.iter(f"{{{ns['d']}}}AdaptationSet"):
        template_parent = adaptation.find("d:SegmentTemplate", ns)
        for representation in adaptation.findall("d:Representation", ns):
            template = representation.find("d:SegmentTemplate", ns) or template_parent
            rep_id = representation.get("id", "")
            bandwidth = representation.get("bandwidth", "")
            if template is None:
                base_url = representation.find("d:BaseURL", ns)
                if base_url is not None and base_url.text:
                    keys.add(_join(base, base_url.text))
                continue

            if template.get("initialization"):
                keys.add(
                    _join(base, _expand(template.get("initialization", ""), rep_id, bandwidth))
                )
            number = int(template.get("startNumber", "1"))
            timeline = template.find("d:SegmentTimeline", ns)
            assert timeline is not None, "expected a SegmentTimeline"
            t = 0
            for s in timeline.findall("d:S", ns):
                t = int(s.get("t", t))
                for _ in range(int(s.get("r", "0")) + 1):
                    keys.add(
                        _join(
                            base, _expand(template.get("media", ""), rep_id, bandwidth, number, t)
                        )
                    )
                    number += 1
                    t += int(s.get("d", "0"))
    return keys


def _expand(
    pattern: str, rep_id: str, bandwidth: str, number: int | None = None, time_: int | None = None
) -> str:
    """A DASH SegmentTemplate pattern with its identifiers filled in."""
    out = pattern.replace("$RepresentationID$", rep_id).replace("$Bandwidth$", bandwidth)
    if number is not None:
        out = re.sub(r"\$Number(%0(\d+)d)?\$", lambda m: str(number).zfill(int(m[2] or 0)), out)
    if time_ is not None:
        out = out.replace("$Time$", str(time_))
    return out


def decode_all_renditions(
    media: MediaPlatform, job: Job, content_key: bytes | None = None
) -> dict[str, int]:
    """Decodes every segment of every HLS rendition (init + segment) with PyAV, after
    decrypting it with ``content_key`` (AES-128, IV = media sequence number) when the playlist
    says it is encrypted; returns the number of decoded frames per media playlist."""
    assert job.master_playlist is not None
    base = PurePosixPath(job.master_playlist).parent
    master = m3u8.loads(media.object(job.master_playlist).decode())
    frames: dict[str, int] = {}
    for uri in [p.uri for p in master.playlists] + [
        m.uri for m in master.media if m.uri and m.type == "AUDIO"
    ]:
        key = _join(base, uri)
        playlist = m3u8.loads(media.object(key).decode())
        playlist_base = PurePosixPath(key).parent
        init = media.object(_join(playlist_base, playlist.segment_map[0].uri))
        count = 0
        for sequence, segment in enumerate(playlist.segments):
            body = media.object(_join(playlist_base, segment.uri))
            if segment.key is not None and segment.key.method == "AES-128":
                assert content_key is not None, f"{uri} is encrypted"
                body = encryption.decrypt(body, content_key, encryption.iv(sequence))
            data = init + body
            with av.open(io.BytesIO(data)) as container:
                count += sum(1 for _ in container.decode(container.streams[0]))
        frames[uri] = count
    return frames


def json_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]
