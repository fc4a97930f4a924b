// The titles list (one lifecycle state at a time, recently edited first) and the form that
// starts a new title from just a name.
import type { TitleDocument } from "../api";
import { el, problem, status } from "../dom";
import { go, type View } from "../router";
import * as admin from "./api";
import { Note, field, formatUtc, input, panel, select } from "./ui";

/** The list's columns; the wide ones make way on narrow screens. */
const COLUMNS: [string, boolean][] = [
  ["Name", false], ["Kind", false], ["Genres", false], ["Languages", true],
  ["Licences", true], ["Last edited", false], ["Version", true],
];

function stateTabs(current: admin.TitleState): HTMLElement {
  return el(
    "nav",
    { class: "tabs", "aria-label": "Lifecycle state" },
    ...admin.TITLE_STATES.map((state) =>
      el(
        "a",
        { href: `#/admin/titles?state=${state}`, ...(state === current ? { "aria-current": "page" } : {}) },
        state,
      ),
    ),
  );
}

function titleRow(doc: TitleDocument): HTMLElement {
  const genres = doc.genres?.length ? doc.genres.join(", ") : "—";
  return el(
    "tr",
    {},
    el("th", { scope: "row" }, el("a", { href: `#/admin/titles/${encodeURIComponent(doc.id)}` }, admin.nameOf(doc))),
    el("td", {}, doc.kind),
    el("td", {}, genres),
    el("td", { class: "wide" }, Object.keys(doc.localized).join(", ")),
    el("td", { class: "wide num" }, String(doc.licences?.length ?? 0)),
    el("td", {}, formatUtc(doc.updated_at)),
    el("td", { class: "wide num" }, String(doc.version)),
  );
}

function newTitleForm(): HTMLElement {
  const name = input({ required: "", maxlength: "200", autocomplete: "off" });
  const kind = select(["movie", "series"], "movie");
  const language = input({ required: "", value: "en", pattern: admin.LANGUAGE_PATTERN, size: "6" });
  const note = new Note();
  const form = el(
    "form",
    { class: "new-title" },
    field("Name", name),
    field("Kind", kind),
    field("Language", language, "BCP-47: en, fr, pt-BR"),
    el("button", { type: "submit", class: "primary" }, "Create title"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    note.say("Creating…");
    try {
      const created = await admin.createTitle(name.value.trim(), kind.value as admin.TitleKind, language.value.trim());
      go(`#/admin/titles/${encodeURIComponent(created.id)}`);
    } catch (error) {
      note.fail(error);
    }
  });
  return panel("New title", form, note.element);
}

export async function titlesView(view: View, nav: HTMLElement, query: URLSearchParams): Promise<void> {
  const asked = query.get("state") as admin.TitleState | null;
  const state = asked && admin.TITLE_STATES.includes(asked) ? asked : "draft";
  const body = el("tbody");
  const table = el(
    "table",
    { class: "titles" },
    el("caption", { class: "visually-hidden" }, `Titles in state ${state}`),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        ...COLUMNS.map(([h, wide]) => el("th", { scope: "col", ...(wide ? { class: "wide" } : {}) }, h)),
      ),
    ),
    body,
  );
  const more = el("button", { type: "button", class: "button" }, "Load more");
  more.hidden = true;
  const note = el("div", { class: "list-note" }, status(`Loading ${state} titles…`));
  let cursor: string | null = null;

  async function load(): Promise<void> {
    more.disabled = true;
    try {
      const page = await admin.listTitles(state, cursor);
      body.append(...page.items.map(titleRow));
      cursor = page.next_cursor ?? null;
      more.hidden = cursor === null;
      note.replaceChildren(body.children.length ? "" : status(`No ${state} titles.`));
    } catch (error) {
      note.replaceChildren(problem(error));
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener("click", () => void load());

  view.show(
    nav,
    el("h1", {}, "Titles"),
    el(
      "div",
      { class: "admin-grid" },
      el("div", { class: "list" }, stateTabs(state), el("div", { class: "table-wrap" }, table), note, more),
      newTitleForm(),
    ),
  );
  await load();
}
