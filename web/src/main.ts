// The viewer app: sign in, pick a profile, browse the home rows, search as you type.
// Hash routes (#/signin, #/profiles, #/home, #/search?q=) so any static host serves it.
import "./style.css";
import * as api from "./api";

const view = document.querySelector<HTMLElement>("#view")!;
const searchForm = document.querySelector<HTMLFormElement>("form.search")!;
const searchBox = document.querySelector<HTMLInputElement>("#search")!;
const who = document.querySelector<HTMLButtonElement>("button.who")!;
const PROFILE_KEY = "flixstack.profile";
const SEARCH_DEBOUNCE_MS = 250;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function show(...children: Node[]): void {
  view.replaceChildren(...children);
  view.focus({ preventScroll: true });
}

function problem(error: unknown): Node {
  const text = error instanceof Error ? error.message : String(error);
  return el("p", { class: "problem", role: "alert" }, text);
}

function card(title: api.TitleCard): HTMLElement {
  const art = title.poster_url
    ? el("img", { src: title.poster_url, alt: "", loading: "lazy", decoding: "async" })
    : el("div", { class: "no-art", "aria-hidden": "true" }, title.name);
  const link = el(
    "a",
    { class: "card", href: `#/title/${encodeURIComponent(title.id)}`, title: title.synopsis },
    art,
    el("span", { class: "name" }, title.name),
  );
  link.dataset.titleId = title.id;
  return el("li", {}, link);
}

function row(heading: string, items: api.TitleCard[], id: string): HTMLElement {
  const headingId = `row-${id.replace(/[^a-z0-9-]/gi, "-")}`;
  return el(
    "section",
    { class: "row", "aria-labelledby": headingId, "data-row": id },
    el("h2", { id: headingId }, heading),
    el("ul", { class: "cards" }, ...items.map(card)),
  );
}

function signInView(): void {
  const user = el("input", { id: "user", type: "email", autocomplete: "username", required: "" });
  const password = el("input", {
    id: "password",
    type: "password",
    autocomplete: "current-password",
    required: "",
  });
  const status = el("p", { class: "status", role: "status" });
  const form = el(
    "form",
    { class: "signin", "aria-labelledby": "signin-heading" },
    el("h1", { id: "signin-heading" }, "Sign in"),
    el("label", { for: "user" }, "Email"),
    user,
    el("label", { for: "password" }, "Password"),
    password,
    el("button", { type: "submit" }, "Sign in"),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "Signing in…";
    try {
      await api.signIn(user.value.trim(), password.value);
      location.hash = "#/profiles";
    } catch (error) {
      status.textContent = error instanceof Error ? error.message : String(error);
    }
  });
  show(form);
  user.focus();
}

async function profilesView(): Promise<void> {
  show(el("p", { class: "status" }, "Loading profiles…"));
  try {
    const found = await api.profiles();
    const list = el(
      "ul",
      { class: "profiles" },
      ...found.map((profile) => {
        const button = el("button", { type: "button", class: `avatar ${profile.avatar}` }, profile.name);
        button.addEventListener("click", () => {
          sessionStorage.setItem(PROFILE_KEY, JSON.stringify(profile));
          location.hash = "#/home";
        });
        return el("li", {}, button);
      }),
    );
    const name = el("input", { id: "new-profile", required: "", maxlength: "50" });
    const add = el(
      "form",
      { class: "add-profile" },
      el("label", { for: "new-profile" }, "New profile"),
      name,
      el("button", { type: "submit" }, "Add"),
    );
    add.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api.createProfile(name.value.trim());
        await profilesView();
      } catch (error) {
        add.append(problem(error));
      }
    });
    show(el("h1", {}, "Who's watching?"), list, add);
  } catch (error) {
    show(problem(error));
  }
}

function currentProfile(): api.Profile | null {
  const stored = sessionStorage.getItem(PROFILE_KEY);
  return stored ? (JSON.parse(stored) as api.Profile) : null;
}

async function homeView(profile: api.Profile): Promise<void> {
  show(el("p", { class: "status" }, "Loading…"));
  try {
    const page = await api.home(profile.id);
    const rows = page.rows.map((r) => row(r.title, r.items, r.id));
    show(el("h1", { class: "visually-hidden" }, `Home for ${profile.name}`), ...rows);
  } catch (error) {
    show(problem(error));
  }
}

let searching = 0;
async function searchView(query: string): Promise<void> {
  const mine = ++searching;
  if (!query.trim()) {
    show(el("p", { class: "status" }, "Type to search."));
    return;
  }
  try {
    const found = await api.search(query);
    if (mine !== searching) return; // a newer query is under way
    show(
      found.length
        ? row(`Results for “${query}”`, found, "search")
        : el("p", { class: "status" }, `Nothing found for “${query}”.`),
    );
  } catch (error) {
    show(problem(error));
  }
}

let debounce: number | undefined;
searchBox.addEventListener("input", () => {
  window.clearTimeout(debounce);
  debounce = window.setTimeout(() => {
    const wanted = `#/search?q=${encodeURIComponent(searchBox.value)}`;
    if (location.hash !== wanted) location.hash = wanted;
  }, SEARCH_DEBOUNCE_MS);
});
searchForm.addEventListener("submit", (event) => event.preventDefault());
who.addEventListener("click", () => {
  sessionStorage.removeItem(PROFILE_KEY);
  location.hash = "#/profiles";
});

async function route(): Promise<void> {
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const signedIn = api.token() !== null;
  const profile = currentProfile();
  searchForm.hidden = !(signedIn && profile);
  who.hidden = !(signedIn && profile);
  who.textContent = profile ? `${profile.name} ▾` : "";
  who.setAttribute("aria-label", profile ? `Switch profile (now ${profile.name})` : "Switch profile");
  if (!signedIn) return signInView();
  if (path === "/profiles" || !profile) return profilesView();
  if (path === "/search") {
    const q = new URLSearchParams(query).get("q") ?? "";
    if (document.activeElement !== searchBox) searchBox.value = q;
    return searchView(q);
  }
  return homeView(profile);
}

window.addEventListener("hashchange", () => void route());
void route();
