// Who is signed in: the access token, kept for this tab (sessionStorage).
// Locally: the emulator's users through POST /local/sign-in. On AWS: Cognito's hosted UI,
// the OAuth 2.0 authorization code flow with PKCE (RFC 7636, S256): a public client, no secret.
import { settings, type HostedAuth } from "./config";

const TOKEN_KEY = "flixstack.token";
const PKCE_KEY = "flixstack.pkce";
const EXPIRY_MARGIN_MS = 30_000;

interface Stored {
  access_token: string;
  expires_at: number; // epoch ms
}

interface TokenAnswer {
  access_token: string;
  expires_in: number;
}

export function accessToken(): string | null {
  const raw = sessionStorage.getItem(TOKEN_KEY);
  if (!raw) return null;
  const stored = JSON.parse(raw) as Stored;
  if (stored.expires_at - EXPIRY_MARGIN_MS < Date.now()) {
    signedOut();
    return null;
  }
  return stored.access_token;
}

function keep(answer: TokenAnswer): void {
  const stored: Stored = {
    access_token: answer.access_token,
    expires_at: Date.now() + answer.expires_in * 1000,
  };
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify(stored));
}

/** A token handed over by whoever opened the page (the standalone player's #token=). */
export function adoptToken(token: string, expiresInS = 3600): void {
  keep({ access_token: token, expires_in: expiresInS });
}

export function signedOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

export async function signInWithPassword(username: string, password: string): Promise<void> {
  const response = await fetch(`${settings().api_base}/local/sign-in`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (response.status === 401) throw new Error("Wrong email or password.");
  if (!response.ok) throw new Error(`Sign-in failed (${response.status}).`);
  keep((await response.json()) as TokenAnswer);
}

function base64url(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(bytes: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

export async function codeChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** To the hosted UI; it comes back to redirect_uri with ?code=&state=. */
export async function beginHostedSignIn(auth: HostedAuth): Promise<void> {
  const verifier = randomString(48); // 64 characters: within RFC 7636's 43-128
  const state = randomString(16);
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, back: location.hash }));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: auth.client_id,
    redirect_uri: auth.redirect_uri,
    scope: auth.scopes.join(" "),
    state,
    code_challenge: await codeChallenge(verifier),
    code_challenge_method: "S256",
  });
  location.assign(`${auth.authorize_url}?${query}`);
}

/** Back from the hosted UI: the code (for this tab's verifier) becomes tokens. Returns the
 * hash route the viewer left from, or null when this page load is not a redirect back. */
export async function completeHostedSignIn(auth: HostedAuth): Promise<string | null> {
  const query = new URLSearchParams(location.search);
  const code = query.get("code");
  const error = query.get("error");
  if (!code && !error) return null;
  const pending = JSON.parse(sessionStorage.getItem(PKCE_KEY) ?? "null") as {
    verifier: string;
    state: string;
    back: string;
  } | null;
  sessionStorage.removeItem(PKCE_KEY);
  history.replaceState(null, "", location.pathname + location.hash);
  if (error) throw new Error(`Sign-in was refused: ${query.get("error_description") ?? error}`);
  if (!pending || pending.state !== query.get("state")) {
    throw new Error("This sign-in answer is not for this tab: please sign in again.");
  }
  const response = await fetch(auth.token_url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: auth.client_id,
      code: code ?? "",
      redirect_uri: auth.redirect_uri,
      code_verifier: pending.verifier,
    }),
  });
  if (!response.ok) throw new Error(`The sign-in code was refused (${response.status}).`);
  keep((await response.json()) as TokenAnswer);
  return pending.back || "#/profiles";
}

/** Forget the token; with the hosted UI, end its session too. */
export function signOut(): void {
  signedOut();
  const auth = settings().auth;
  if (auth.kind === "hosted") {
    const query = new URLSearchParams({ client_id: auth.client_id, logout_uri: auth.redirect_uri });
    location.assign(`${auth.logout_url}?${query}`);
  }
}
