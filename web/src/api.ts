// The API, with the signed-in viewer's access token. Its types are generated from the
// API's OpenAPI document (schema.d.ts: `make web-schema`), so a renamed field fails `tsc`.
import type { components } from "./schema";
import { accessToken, signedOut } from "./auth";
import { settings } from "./config";

type Schemas = components["schemas"];
export type TitleCard = Schemas["TitleCard"];
export type TitleDetail = Schemas["TitleDetail"];
export type HomePage = Schemas["HomePage"];
export type HomeRow = Schemas["HomeRow"];
export type ContinueItem = Schemas["ContinueItem"];
export type Profile = Schemas["Profile"];
export type MyList = Schemas["MyList"];
export type Rating = Schemas["Rating"];
export type PlaybackGrant = Schemas["PlaybackGrant"];
export type TitleDocument = Schemas["TitleDocument"];
export type AdminTitlePage = Schemas["AdminTitlePage"];
export type MetadataPatch = Schemas["MetadataPatch"];
export type LicencesPut = Schemas["LicencesPut"];
export type UploadRequest = Schemas["UploadRequest"];
export type UploadTicket = Schemas["UploadTicket"];
export type UploadComplete = Schemas["UploadComplete"];
export type JobView = Schemas["JobView"];
export type QoeReport = Schemas["QoeReport"];
export type PlayerEvent = Record<string, unknown> & { type: string };

export const PROFILE_HEADER = "X-Profile-Id";

/** An answer other than 2xx: the API's ``reason`` and ``detail`` (or the status line). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  keepalive?: boolean;
}

/** The API's URL for ``path`` (same origin locally; the API's own domain on AWS). */
export function apiUrl(path: string): string {
  return settings().api_base + path;
}

/** The bearer token and, for calls on a profile's behalf, its id. */
export function authHeaders(profileId?: string): Record<string, string> {
  const headers: Record<string, string> = {};
  const bearer = accessToken();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (profileId) headers[PROFILE_HEADER] = profileId;
  return headers;
}

export async function problemOf(response: Response): Promise<ApiError> {
  let reason = "error";
  let message = `${response.status} ${response.statusText}`;
  try {
    const problem = await response.json();
    reason = problem.reason ?? reason;
    const detail = problem.detail ?? problem.message;
    if (typeof detail === "string") message = detail;
    else if (Array.isArray(detail)) message = detail.map((d) => d.msg ?? String(d)).join("; ");
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, reason, message);
}

export async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const headers = { ...authHeaders(), ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(apiUrl(path), {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    keepalive: options.keepalive,
  });
  if (!response.ok) {
    const error = await problemOf(response);
    if (response.status === 401) signedOut();
    throw error;
  }
  return (response.status === 204 ? undefined : await response.json()) as T;
}

const id = encodeURIComponent;
const profilePath = (profileId: string, rest = ""): string => `/profiles/${id(profileId)}${rest}`;

export const profiles = (): Promise<Profile[]> => call("GET", "/profiles");
export const createProfile = (name: string): Promise<Profile> =>
  call("POST", "/profiles", { body: { name } });
export const home = (profileId: string): Promise<HomePage> =>
  call("GET", profilePath(profileId, "/home"));
export const search = (query: string): Promise<TitleCard[]> =>
  call("GET", `/search?q=${id(query)}&limit=20`);
export const title = (titleId: string): Promise<TitleDetail> => call("GET", `/titles/${id(titleId)}`);
export const myList = (profileId: string): Promise<MyList> =>
  call("GET", profilePath(profileId, "/my-list"));
export const addToList = (profileId: string, titleId: string): Promise<MyList> =>
  call("PUT", profilePath(profileId, `/my-list/${id(titleId)}`));
export const removeFromList = (profileId: string, titleId: string): Promise<void> =>
  call("DELETE", profilePath(profileId, `/my-list/${id(titleId)}`));
export const ratings = (profileId: string): Promise<Rating[]> =>
  call("GET", profilePath(profileId, "/ratings"));
export const rate = (profileId: string, titleId: string, rating: "up" | "down" | "clear"): Promise<Rating> =>
  call("PUT", profilePath(profileId, `/ratings/${id(titleId)}`), { body: { rating } });
export const continueWatching = (profileId: string): Promise<Schemas["ContinueWatching"]> =>
  call("GET", profilePath(profileId, "/continue-watching"));

/** A playback grant: CDNs, signed cookies (also set by the answer), key, resume point. */
export const playback = (profileId: string, targetId: string): Promise<PlaybackGrant> =>
  call("POST", `/playback/${id(targetId)}`, { headers: authHeaders(profileId) });

