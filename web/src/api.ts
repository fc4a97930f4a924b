// The API, from the page's own origin, with the signed-in viewer's access token.

export interface TitleCard {
  id: string;
  kind: string;
  name: string;
  synopsis: string;
  genres: string[];
  maturity_rating: string;
  release_year: number | null;
  poster_url: string | null;
}

export interface HomeRow {
  id: string;
  kind: string;
  title: string;
  items: TitleCard[];
}

export interface HomePage {
  profile_id: string;
  model_version: number | null;
  rows: HomeRow[];
}

export interface Profile {
  id: string;
  name: string;
  avatar: string;
  kids: boolean;
}

const TOKEN_KEY = "flixstack.token";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    let reason = "error";
    let message = `${response.status} ${response.statusText}`;
    try {
      const problem = await response.json();
      reason = problem.reason ?? reason;
      message = problem.detail ?? problem.message ?? message;
    } catch {
      // not JSON: keep the status line
    }
    if (response.status === 401) signOut();
    throw new ApiError(response.status, reason, String(message));
  }
  return (response.status === 204 ? undefined : await response.json()) as T;
}

export async function signIn(username: string, password: string): Promise<void> {
  const tokens = await call<{ access_token: string }>("POST", "/local/sign-in", {
    username,
    password,
  });
  sessionStorage.setItem(TOKEN_KEY, tokens.access_token);
}

export const profiles = (): Promise<Profile[]> => call("GET", "/profiles");
export const createProfile = (name: string): Promise<Profile> =>
  call("POST", "/profiles", { name });
export const home = (profileId: string): Promise<HomePage> =>
  call("GET", `/profiles/${encodeURIComponent(profileId)}/home`);
export const search = (query: string): Promise<TitleCard[]> =>
  call("GET", `/search?q=${encodeURIComponent(query)}&limit=20`);
