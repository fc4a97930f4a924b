"""Admin upload flow against the emulator: presigned multipart parts, completion, the job
it creates, and the S3 notification that reaches the transcode queue."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi.testclient import TestClient

from flixstack import spec
from flixstack.api.app import create_app
from flixstack.aws.clients import AwsClients
from flixstack.media.uploads import MIN_PART
from flixstack.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def api(bootstrapped: Settings, admin_headers: dict[str, str]) -> TestClient:
    return TestClient(create_app(bootstrapped), headers=admin_headers)


def drain(clients: AwsClients, settings: Settings) -> list[dict[str, object]]:
    url = clients.sqs.get_queue_url(QueueName=settings.naming.queue(spec.TRANSCODE))["QueueUrl"]
    bodies = []
    while True:
        messages = clients.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            clients.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_multipart_upload_creates_one_queued_job_and_notifies_the_queue(
    api: TestClient, bootstrapped: Settings, clients: AwsClients
) -> None:
    title = api.post("/admin/titles", json={"name": "Upload test"}).json()
    assert title["state"] == "draft"
    size = MIN_PART + 1000  # two parts: one full, one short
    ticket = api.post(
        f"/admin/titles/{title['id']}/uploads",
        json={
            "filename": "clip.mp4",
            "size_bytes": size,
            "ladder": "fixed",
            "subtitles": [{"language": "en", "filename": "clip.en.srt"}],
        },
    )
    assert ticket.status_code == 201, ticket.text
    body = ticket.json()
    assert len(body["parts"]) == 2
    assert body["key"].startswith(f"{spec.MASTERS_PREFIX}{title['id']}/")
    drain(clients, bootstrapped)  # nothing so far but moto's test event

    # the client uploads the sidecar, then the parts, with the presigned URLs
    assert httpx.put(
        body["subtitles"][0]["url"], content=b"1\n00:00:00,000 --> 00:00:01,000\nHi\n"
    ).is_success
    payload = b"x" * size
    etags = []
    for part in body["parts"]:
        start = (part["part_number"] - 1) * body["part_size_bytes"]
        response = httpx.put(part["url"], content=payload[start : start + body["part_size_bytes"]])
        assert response.is_success
        etags.append({"part_number": part["part_number"], "etag": response.headers["ETag"]})
    completed = api.post(body["complete_path"], json={"parts": etags})
    assert completed.status_code == 202, completed.text
    job = completed.json()
    assert (job["id"], job["state"], job["ladder"]) == (body["job_id"], "QUEUED", "fixed")
    assert [s["language"] for s in job["subtitles"]] == ["en"]
    # completing again is harmless and returns the same job
    again = api.post(body["complete_path"], json={"parts": etags}).json()
    assert (again["id"], again["created_at"]) == (job["id"], job["created_at"])
    assert api.get(f"/admin/jobs/{job['id']}").json()["state"] == "QUEUED"

    stored = clients.s3.head_object(Bucket=body["bucket"], Key=body["key"])
    assert stored["ContentLength"] == size
    assert stored["Metadata"]["ladder"] == "fixed"
    keys = [
        record["s3"]["object"]["key"]
        for message in drain(clients, bootstrapped)
        for record in message.get("Records", [])  # type: ignore[attr-defined]
    ]
    assert keys  # the master's ObjectCreated reached the queue; the sidecar's did not
    assert all("masters" in key for key in keys)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"filename": "../etc/passwd", "size_bytes": 10}, 422),
        ({"filename": "a.mp4", "size_bytes": 0}, 422),
        (
            {
                "filename": "a.mp4",
                "size_bytes": 10,
                "subtitles": [{"language": "en", "filename": "a.txt"}],
            },
            422,
        ),
        (
            {
                "filename": "a.mp4",
                "size_bytes": 10,
                "subtitles": [{"language": "English", "filename": "a.srt"}],
            },
            422,
        ),
        ({"filename": "a.mp4", "size_bytes": 10, "ladder": "best"}, 422),
    ],
)
def test_bad_upload_requests_get_4xx_with_a_reason(
    api: TestClient, body: dict[str, object], status: int
) -> None:
    title = api.post("/admin/titles", json={"name": "Bad upload"}).json()
    response = api.post(f"/admin/titles/{title['id']}/uploads", json=body)
    assert response.status_code == status
    assert response.json()["detail"]


def test_too_large_and_unknown_titles_are_refused(
    bootstrapped: Settings, admin_headers: dict[str, str]
) -> None:
    api = TestClient(
        create_app(bootstrapped.model_copy(update={"max_upload_bytes": 1000})),
        headers=admin_headers,
    )
    title = api.post("/admin/titles", json={"name": "Big"}).json()
    response = api.post(
        f"/admin/titles/{title['id']}/uploads", json={"filename": "a.mp4", "size_bytes": 1001}
    )
    assert response.status_code == 400
    assert response.json()["reason"] == "too_large"
    missing = api.post("/admin/titles/nope/uploads", json={"filename": "a.mp4", "size_bytes": 10})
    assert missing.status_code == 404
    assert api.get("/admin/jobs/nope").status_code == 404
    assert (
        api.post(
            "/admin/uploads/nope/complete", json={"parts": [{"part_number": 1, "etag": "x"}]}
        ).status_code
        == 404
    )


def test_completing_with_wrong_etags_is_a_client_error(api: TestClient) -> None:
    title = api.post("/admin/titles", json={"name": "Wrong etag"}).json()
    ticket = api.post(
        f"/admin/titles/{title['id']}/uploads", json={"filename": "a.mp4", "size_bytes": 10}
    ).json()
    httpx.put(ticket["parts"][0]["url"], content=b"0123456789")
    response = api.post(
        ticket["complete_path"], json={"parts": [{"part_number": 1, "etag": "deadbeef"}]}
    )
    assert response.status_code == 400
    assert response.json()["reason"] == "bad_upload"
