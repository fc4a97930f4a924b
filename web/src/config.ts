// The app's runtime settings: config.json beside index.html. `flixstack up` serves the local
// one (same-origin API, sign-in form); on AWS the webapp stack writes the API's URL and the
// Cognito hosted UI's endpoints there.

export interface HostedAuth {
  kind: "hosted";
  authorize_url: string;
  token_url: string;
  logout_url: string;
  client_id: string;
  redirect_uri: string;
  scopes: string[];
}

export interface LocalAuth {
  kind: "local";
}

export interface Settings {
  api_base: string;
  auth: HostedAuth | LocalAuth;
}

let loaded: Settings | null = null;

export async function loadSettings(): Promise<Settings> {
  const response = await fetch(`${import.meta.env.BASE_URL}config.json`, { cache: "no-cache" });
  if (!response.ok) throw new Error(`the app's config.json is missing (${response.status})`);
  const body = (await response.json()) as Settings;
  loaded = { ...body, api_base: body.api_base.replace(/\/+$/, "") };
  return loaded;
}

export function settings(): Settings {
  if (!loaded) throw new Error("settings used before loadSettings()");
  return loaded;
}
