"""Admin: titles, uploads and transcode jobs."""

from __future__ import annotations

from fastapi import APIRouter, status

from flixstack.api.deps import ActorDep, CatalogDep, IngestDep
from flixstack.catalog.models import Title, TitleCreate
from flixstack.media.uploads import JobView, UploadComplete, UploadRequest, UploadTicket

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post("/titles", response_model=Title, status_code=status.HTTP_201_CREATED)
def create_title(body: TitleCreate, catalog: CatalogDep, actor: ActorDep) -> Title:
    """Create a draft title."""
    return catalog.create(body, actor)


@router.get("/titles/{title_id}", response_model=Title)
def get_title(title_id: str, catalog: CatalogDep) -> Title:
    """A title in any lifecycle state."""
    return catalog.get(title_id)


@router.post(
    "/titles/{title_id}/uploads", response_model=UploadTicket, status_code=status.HTTP_201_CREATED
)
def create_upload(title_id: str, body: UploadRequest, ingest: IngestDep) -> UploadTicket:
    """Start a presigned multipart upload of a master (and any subtitle sidecars).
    PUT each part to its URL, then POST the parts' ETags to `complete_path`."""
    return ingest.create(title_id, body)


@router.post(
    "/uploads/{upload_id}/complete", response_model=JobView, status_code=status.HTTP_202_ACCEPTED
)
def complete_upload(upload_id: str, body: UploadComplete, ingest: IngestDep) -> JobView:
    """Finish the upload; its transcode job is created and queued. Safe to repeat."""
    return ingest.complete(upload_id, body)


@router.get("/jobs/{job_id}", response_model=JobView)
def get_job(job_id: str, ingest: IngestDep) -> JobView:
    """A transcode job: state, stage, percent, and on success the manifest URLs."""
    return ingest.job(job_id)
