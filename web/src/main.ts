// The viewer and admin app. Hash routes, so any static host serves it (see router.ts).
import "./style.css";
import { accessToken, completeHostedSignIn, signOut } from "./auth";
import { loadSettings } from "./config";
import { problem } from "./dom";
import { currentRoute, go, View } from "./router";
import { chooseProfile, currentProfile, isAdmin } from "./session";
import { signInView, profilesView } from "./views/account";
import { homeView, myListView, searchView } from "./views/browse";
import { titleView } from "./views/title";
import { watchView } from "./views/watch";

const view = new View(document.querySelector<HTMLElement>("#view")!);
const nav = document.querySelector<HTMLElement>("nav.sections")!;
const adminLink = document.querySelector<HTMLAnchorElement>("a[href='#/admin']")!;
const searchForm = document.querySelector<HTMLFormElement>("form.search")!;
const searchBox = document.querySelector<HTMLInputElement>("#search")!;
const who = document.querySelector<HTMLButtonElement>("button.who")!;
const out = document.querySelector<HTMLButtonElement>("button.sign-out")!;
const SEARCH_DEBOUNCE_MS = 250;

let debounce: number | undefined;
searchBox.addEventListener("input", () => {
  window.clearTimeout(debounce);
  debounce = window.setTimeout(() => go(`#/search?q=${encodeURIComponent(searchBox.value)}`), SEARCH_DEBOUNCE_MS);
});
searchForm.addEventListener("submit", (event) => event.preventDefault());
who.addEventListener("click", () => {
  chooseProfile(null);
  go("#/profiles");
});
out.addEventListener("click", () => {
  chooseProfile(null);
  signOut();
  go("#/signin");
  void route();
});

function chrome(signedIn: boolean, section: string): void {
  const profile = currentProfile();
  const browsing = signedIn && profile !== null;
  for (const element of [searchForm, who]) element.hidden = !browsing;
  nav.hidden = !signedIn;
  out.hidden = !signedIn;
  adminLink.hidden = !isAdmin();
  who.textContent = profile ? `${profile.name} ▾` : "";
  who.setAttribute("aria-label", profile ? `Switch profile (now ${profile.name})` : "Switch profile");
  for (const link of nav.querySelectorAll("a")) {
    const current = link.getAttribute("href") === `#/${section}`;
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.body.dataset.section = section;
}

async function route(): Promise<void> {
  view.leave();
  const { parts, query } = currentRoute();
  const [section = "home", id] = parts;
  const signedIn = accessToken() !== null;
  chrome(signedIn, section);
  if (!signedIn) return signInView(view);
  if (section === "admin") {
    // the admin screens are a chunk of their own: viewers never download them
    const { adminView } = await import("./admin/admin");
    return adminView(view, parts.slice(1), query);
  }
  const profile = currentProfile();
  if (section === "profiles" || !profile) return profilesView(view);
  if (section === "search") {
    const q = query.get("q") ?? "";
    if (document.activeElement !== searchBox) searchBox.value = q;
    return searchView(view, q);
  }
  if (section === "title" && id) return titleView(view, profile, id);
  if (section === "watch" && id) return watchView(view, profile, id, query.get("from"));
  if (section === "my-list") return myListView(view, profile);
  return homeView(view, profile);
}

async function boot(): Promise<void> {
  const settings = await loadSettings();
  if (settings.auth.kind === "hosted") {
    const back = await completeHostedSignIn(settings.auth);
    if (back) location.hash = back;
  }
  window.addEventListener("hashchange", () => void route());
  await route();
}

boot().catch((error) => view.show(problem(error)));
