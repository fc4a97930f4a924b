// The admin API (flixstack/api/routers/admin.py and qoe.py). Every edit carries the version
// it was based on as If-Match: a stale one is answered 409 ``stale_version``.
import {
  ApiError,
  call,
  type AdminTitlePage,
  type JobView,
  type LicencesPut,
  type MetadataPatch,
  type QoeReport,
  type TitleDocument,
  type UploadComplete,
  type UploadRequest,
  type UploadTicket,
} from "../api";
import type { components } from "../schema";

type Schemas = components["schemas"];
export type TitleState = Schemas["TitleState"];
export type TitleKind = Schemas["TitleKind"];
export type Licence = Schemas["Licence"];
export type LocalizedText = Schemas["LocalizedText"];
export type CastMember = Schemas["CastMember"];
export type MaturityRating = TitleDocument["maturity_rating"];
export type LifecycleAction = Schemas["LifecycleAction"];
export type JobState = Schemas["JobState"];
export type SeasonCreate = Schemas["SeasonCreate"];
export type EpisodeCreate = Schemas["EpisodeCreate"];

/** Lifecycle states, in the order a title moves through them. */
export const TITLE_STATES: readonly TitleState[] = ["draft", "processing", "ready", "published", "archived"];

/** Every rating, in the API's order (a Record, so tsc notices one added or removed). */
const RATINGS: Record<MaturityRating, true> = {
  "TV-Y": true, G: true, "TV-Y7": true, "TV-G": true, PG: true, "TV-PG": true,
  "PG-13": true, "TV-14": true, R: true, "TV-MA": true, "NC-17": true,
};
export const MATURITY_RATINGS = Object.keys(RATINGS) as MaturityRating[];

/** The controlled genre vocabulary (flixstack.catalog.models.GENRES; the browser test checks
 * that the two agree). */
export const GENRES = [
  "action", "animation", "comedy", "crime", "documentary", "drama",
  "family", "fantasy", "horror", "romance", "sci-fi", "thriller",
] as const;
export const MAX_GENRES = 5;
export const LANGUAGE_PATTERN = "[a-z]{2,3}(-[A-Z][A-Za-z]{1,3}|-[0-9]{3})?";
export const TERRITORY_PATTERN = "[A-Z]{2}";

export const ROLES: readonly CastMember["role"][] = ["actor", "director", "writer", "creator", "producer"];

export const TERMINAL_JOB_STATES: readonly JobState[] = ["PUBLISHED", "FAILED"];

/** Someone else changed the title since it was read (409 ``stale_version``). */
export function isStale(error: unknown): error is ApiError {
  return error instanceof ApiError && error.status === 409 && error.reason === "stale_version";
}

const id = encodeURIComponent;
const titlePath = (titleId: string, rest = ""): string => `/admin/titles/${id(titleId)}${rest}`;
const ifMatch = (version: number): Record<string, string> => ({ "If-Match": `"${version}"` });

export const listTitles = (state: TitleState, cursor?: string | null, limit = 25): Promise<AdminTitlePage> =>
  call("GET", `/admin/titles?state=${id(state)}&limit=${limit}${cursor ? `&cursor=${id(cursor)}` : ""}`);

export const createTitle = (name: string, kind: TitleKind, language: string): Promise<TitleDocument> =>
  call("POST", "/admin/titles", { body: { name, kind, language } satisfies Schemas["TitleCreateSimple"] });

export const getTitle = (titleId: string): Promise<TitleDocument> => call("GET", titlePath(titleId));

export const editTitle = (titleId: string, version: number, patch: MetadataPatch): Promise<TitleDocument> =>
  call("PATCH", titlePath(titleId), { body: patch, headers: ifMatch(version) });

export const putLicences = (titleId: string, version: number, licences: Licence[]): Promise<TitleDocument> =>
  call("PUT", titlePath(titleId, "/licences"), { body: { licences } satisfies LicencesPut, headers: ifMatch(version) });

export const addSeason = (titleId: string, version: number, season: SeasonCreate): Promise<TitleDocument> =>
  call("POST", titlePath(titleId, "/seasons"), { body: season, headers: ifMatch(version) });

export const addEpisode = (
  titleId: string,
  version: number,
  season: number,
  episode: EpisodeCreate,
): Promise<TitleDocument> =>
  call("POST", titlePath(titleId, `/seasons/${season}/episodes`), { body: episode, headers: ifMatch(version) });

export const act = (titleId: string, version: number, action: LifecycleAction): Promise<TitleDocument> =>
  call("POST", titlePath(titleId, `/${action}`), { headers: ifMatch(version) });

export const createUpload = (titleId: string, request: UploadRequest): Promise<UploadTicket> =>
  call("POST", titlePath(titleId, "/uploads"), { body: request });

/** Safe to repeat: the job of an upload completed before comes back. */
export const completeUpload = (ticket: UploadTicket, parts: UploadComplete["parts"]): Promise<JobView> =>
  call("POST", ticket.complete_path, { body: { parts } satisfies UploadComplete });

export const job = (jobId: string): Promise<JobView> => call("GET", `/admin/jobs/${id(jobId)}`);

export const titleJobs = (titleId: string): Promise<JobView[]> => call("GET", titlePath(titleId, "/jobs"));

export const qoeReport = (minutes: number): Promise<QoeReport> =>
  call("GET", `/admin/qoe/report?minutes=${minutes}`);

/** A title's name in its default language (or any it has). */
export function nameOf(doc: TitleDocument): string {
  return (doc.localized[doc.default_language] ?? Object.values(doc.localized)[0])?.name ?? doc.id;
}
