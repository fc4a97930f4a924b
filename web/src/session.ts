// The profile watching in this tab, and what the access token says about the viewer.
import type { Profile } from "./api";
import { accessToken } from "./auth";

const PROFILE_KEY = "flixstack.profile";
const ADMIN_GROUP = "admin";

export function currentProfile(): Profile | null {
  const stored = sessionStorage.getItem(PROFILE_KEY);
  return stored ? (JSON.parse(stored) as Profile) : null;
}

export function chooseProfile(profile: Profile | null): void {
  if (profile) sessionStorage.setItem(PROFILE_KEY, JSON.stringify(profile));
  else sessionStorage.removeItem(PROFILE_KEY);
}

/** The token's claims, unverified: only to decide what to show (the API checks them). */
function claims(): Record<string, unknown> {
  const token = accessToken();
  if (!token) return {};
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)) as Record<string, unknown>;
  } catch {
    return {};
  }
}

export function isAdmin(): boolean {
  const groups = claims()["cognito:groups"];
  return Array.isArray(groups) && groups.includes(ADMIN_GROUP);
}
