"""Admin: titles (metadata, licences, seasons, episodes, lifecycle), uploads, jobs,
account status.

Every route needs an access token of the admin group (401 without a valid token, 403
without the group). Every edit carries the version it was based on (If-Match, or a
``version`` field): a stale one gets 409, a missing one 428. Responses carry the new
version as ETag."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from flixstack.api.deps import (
    ActorDep,
    CatalogAdminDep,
    IfMatchDep,
    IngestDep,
    ViewersDep,
    require_admin,
)
from flixstack.catalog.models import (
    GENRES,
    AdminTitlePage,
    EpisodeCreate,
    LicencesPut,
    LifecycleAction,
    MetadataPatch,
    SeasonCreate,
    TitleCreate,
    TitleCreateSimple,
    TitleDocument,
    TitleState,
    VersionOnly,
)
from flixstack.catalog.service import MAX_PAGE
from flixstack.media.uploads import JobView, UploadComplete, UploadRequest, UploadTicket
from flixstack.viewers.models import ID_PATTERN, Account, AccountStatusPut

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[require_admin])
TitleId = Annotated[str, Path(max_length=64)]


def _tagged(response: Response, doc: TitleDocument) -> TitleDocument:
    response.headers["ETag"] = f'"{doc.version}"'
    return doc


@router.post("/titles", response_model=TitleDocument, status_code=status.HTTP_201_CREATED)
def create_title(
    body: TitleCreate | TitleCreateSimple,
    catalog: CatalogAdminDep,
    actor: ActorDep,
    response: Response,
) -> TitleDocument:
    """Create a draft title: full metadata, or just ``{"name": ...}``."""
    request = body.full() if isinstance(body, TitleCreateSimple) else body
    return _tagged(response, catalog.create(request, actor))


@router.get("/titles", response_model=AdminTitlePage)
def list_titles(
    catalog: CatalogAdminDep,
    state: TitleState | None = None,
    genre: Annotated[str | None, Query(description=f"One of: {', '.join(GENRES)}.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> AdminTitlePage:
    """Titles in a lifecycle state (default published) or by first genre, recently edited first."""
    return catalog.list_titles(state=state, genre=genre, limit=limit, cursor=cursor)


@router.get("/titles/{title_id}", response_model=TitleDocument)
def get_title(title_id: TitleId, catalog: CatalogAdminDep, response: Response) -> TitleDocument:
    """A title in any lifecycle state, whole; its version is the ETag."""
    return _tagged(response, catalog.get(title_id))


@router.patch("/titles/{title_id}", response_model=TitleDocument)
def edit_title(
    title_id: TitleId,
    body: MetadataPatch,
    catalog: CatalogAdminDep,
    actor: ActorDep,
    if_match: IfMatchDep,
    response: Response,
) -> TitleDocument:
    """Change metadata (localized texts per language; null removes one)."""
    return _tagged(response, catalog.edit(title_id, body, if_match, actor))


@router.put("/titles/{title_id}/licences", response_model=TitleDocument)
def put_licences(
    title_id: TitleId,
    body: LicencesPut,
    catalog: CatalogAdminDep,
    actor: ActorDep,
    if_match: IfMatchDep,
    response: Response,
) -> TitleDocument:
    """Replace the licence windows (ISO-3166 territory, start and end in UTC)."""
    return _tagged(response, catalog.set_licences(title_id, body, if_match, actor))


@router.post(
    "/titles/{title_id}/seasons", response_model=TitleDocument, status_code=status.HTTP_201_CREATED
)
def add_season(
    title_id: TitleId,
    body: SeasonCreate,
    catalog: CatalogAdminDep,
    actor: ActorDep,
    if_match: IfMatchDep,
    response: Response,
) -> TitleDocument:
    return _tagged(response, catalog.add_season(title_id, body, if_match, actor))


@router.post(
    "/titles/{title_id}/seasons/{season}/episodes",
    response_model=TitleDocument,
    status_code=status.HTTP_201_CREATED,
)
def add_episode(
    title_id: TitleId,
    season: Annotated[int, Path(ge=1, le=200)],
    body: EpisodeCreate,
    catalog: CatalogAdminDep,
    actor: ActorDep,
    if_match: IfMatchDep,
    response: Response,
) -> TitleDocument:
    return _tagged(response, catalog.add_episode(title_id, season, body, if_match, actor))


@router.get("/titles/{title_id}/audit")
def audit(title_id: TitleId, catalog: CatalogAdminDep) -> list[dict[str, Any]]:
    """Who changed what, and when, newest first."""
    return catalog.audit(title_id)


@router.post(
    "/titles/{title_id}/uploads", response_model=UploadTicket, status_code=status.HTTP_201_CREATED
)
def create_upload(title_id: TitleId, body: UploadRequest, ingest: IngestDep) -> UploadTicket:
    """Start a presigned multipart upload of a master (and any subtitle sidecars).
    PUT each part to its URL, then POST the parts' ETags to `complete_path`."""
    return ingest.create(title_id, body)


@router.post(
    "/uploads/{upload_id}/complete", response_model=JobView, status_code=status.HTTP_202_ACCEPTED
)
def complete_upload(
    upload_id: Annotated[str, Path(max_length=64)], body: UploadComplete, ingest: IngestDep
) -> JobView:
    """Finish the upload; its transcode job is created and queued. Safe to repeat."""
    return ingest.complete(upload_id, body)


@router.get("/titles/{title_id}/jobs", response_model=list[JobView])
def title_jobs(title_id: TitleId, ingest: IngestDep) -> list[JobView]:
    """The title's transcode jobs, newest first."""
    return ingest.jobs_of(title_id)


@router.get("/jobs/{job_id}", response_model=JobView)
def get_job(job_id: Annotated[str, Path(max_length=64)], ingest: IngestDep) -> JobView:
    """A transcode job: state, stage, percent, and on success the manifest URLs."""
    return ingest.job(job_id)


# Declared last: its path would otherwise shadow /titles/{id}/uploads and friends.
@router.post("/titles/{title_id}/{action}", response_model=TitleDocument)
def lifecycle(
    title_id: TitleId,
    action: LifecycleAction,
    catalog: CatalogAdminDep,
    actor: ActorDep,
    if_match: IfMatchDep,
    response: Response,
    body: VersionOnly | None = None,
) -> TitleDocument:
    """publish (needs a playable asset and a licence window), unpublish, archive (hides
    the title and sends its media to a colder storage class) or restore."""
    version = if_match or (body.version if body else None)
    return _tagged(response, catalog.act(title_id, action, version, actor))


@router.put("/accounts/{account_id}/status", response_model=Account)
def set_account_status(
    account_id: Annotated[str, Path(pattern=ID_PATTERN)],
    body: AccountStatusPut,
    viewers: ViewersDep,
    actor: ActorDep,
) -> Account:
    """Suspend an account (its profiles can no longer start playback or fetch keys) or
    make it active again. The account id is the user's ``sub``."""
    return viewers.set_account_status(account_id, body, actor)
