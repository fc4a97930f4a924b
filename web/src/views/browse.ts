// Home rows (the recommendations endpoint), search as you type, and My List.
import * as api from "../api";
import { el, problem, status } from "../dom";
import type { View } from "../router";
import { card, homeRow, row } from "./cards";

export async function homeView(view: View, profile: api.Profile): Promise<void> {
  view.show(status("Loading…"));
  try {
    const page = await api.home(profile.id);
    const rows = page.rows.filter((r) => r.items.length).map(homeRow);
    view.show(
      el("h1", { class: "visually-hidden" }, `Home for ${profile.name}`),
      ...(rows.length ? rows : [status("Nothing to watch here yet.")]),
    );
  } catch (error) {
    view.show(problem(error));
  }
}

let searching = 0;
export async function searchView(view: View, query: string): Promise<void> {
  const mine = ++searching;
  if (!query.trim()) {
    view.show(status("Type to search."));
    return;
  }
  try {
    const found = await api.search(query);
    if (mine !== searching) return; // a newer query is under way
    view.show(
      found.length
        ? row(`Results for “${query}”`, found.map((t) => card(t)), "search")
        : status(`Nothing found for “${query}”.`),
    );
  } catch (error) {
    if (mine === searching) view.show(problem(error));
  }
}

export async function myListView(view: View, profile: api.Profile): Promise<void> {
  view.show(status("Loading…"));
  try {
    const list = await api.myList(profile.id);
    const heading = el("h1", {}, "My List");
    view.show(
      heading,
      list.items.length
        ? el("ul", { class: "grid", "data-row": "my-list" }, ...list.items.map((i) => card(i.title)))
        : status("Titles you add to My List show here."),
    );
  } catch (error) {
    view.show(problem(error));
  }
}
