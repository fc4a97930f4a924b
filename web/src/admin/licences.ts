// Licence windows: per territory (ISO-3166 alpha-2), from start to end in UTC. The list is
// edited locally, then saved whole (PUT, with the version read).
import type { TitleDocument } from "../api";
import { el } from "../dom";
import * as admin from "./api";
import type { TitleModel } from "./model";
import { Note, button, field, input, panel } from "./ui";

interface Span {
  territory: string;
  start: string; // datetime-local value, read as UTC: 2026-01-31T00:00:00
  end: string;
}

const YEAR_MS = 365 * 24 * 3600 * 1000;

/** An ISO timestamp as a datetime-local value in UTC (to the second). */
function local(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString().slice(0, 19);
}

/** A datetime-local value (UTC) as an ISO timestamp. */
function utc(value: string): string {
  return `${value.length === 16 ? `${value}:00` : value}Z`;
}

function windowsOf(doc: TitleDocument): Span[] {
  return (doc.licences ?? []).map((l) => ({ territory: l.territory, start: local(l.start), end: local(l.end) }));
}

function standing(span: Span): string {
  const now = Date.now();
  const start = Date.parse(utc(span.start));
  const end = Date.parse(utc(span.end));
  if (Number.isNaN(start) || Number.isNaN(end)) return "";
  if (end <= start) return "ends before it starts";
  if (now < start) return "upcoming";
  return now < end ? "open now" : "ended";
}

export function licencesPanel(model: TitleModel): HTMLElement {
  const note = new Note();
  const list = el("ol", { class: "windows", "aria-label": "Licence windows" });
  const empty = el("p", { class: "muted" }, "No licence windows: nobody can watch this title yet.");
  const add = button("Add window");
  const save = el("button", { type: "submit", class: "primary" }, "Save licences");
  const form = el("form", { novalidate: "" }, list, empty, el("div", { class: "actions" }, add, save));
  let windows = windowsOf(model.doc);

  function render(): void {
    list.replaceChildren(
      ...windows.map((span, index) => {
        const n = index + 1;
        const state = el("span", { class: "standing" }, standing(span));
        const territory = input({
          required: "",
          pattern: admin.TERRITORY_PATTERN,
          maxlength: "2",
          size: "3",
          value: span.territory,
          autocomplete: "off",
          "aria-label": `Territory, window ${n}`,
        });
        territory.addEventListener("input", () => {
          territory.value = territory.value.toUpperCase();
          span.territory = territory.value;
        });
        const start = input({ type: "datetime-local", step: "1", required: "", value: span.start, "aria-label": `Start (UTC), window ${n}` });
        const end = input({ type: "datetime-local", step: "1", required: "", value: span.end, "aria-label": `End (UTC), window ${n}` });
        for (const [control, key] of [[start, "start"], [end, "end"]] as const) {
          control.addEventListener("input", () => {
            span[key] = control.value;
            state.textContent = standing(span);
          });
        }
        const remove = button("Remove", { class: "button subtle", "aria-label": `Remove window ${n}` });
        remove.addEventListener("click", () => {
          windows.splice(index, 1);
          render();
          add.focus();
        });
        return el(
          "li",
          { class: "window" },
          field("Territory", territory),
          field("Start (UTC)", start),
          field("End (UTC)", end),
          el("div", { class: "window-end" }, state, remove),
        );
      }),
    );
    list.hidden = windows.length === 0;
    empty.hidden = windows.length > 0;
  }

  add.addEventListener("click", () => {
    // from this second for a year, until edited
    const now = new Date();
    now.setUTCMilliseconds(0);
    windows.push({
      territory: "",
      start: now.toISOString().slice(0, 19),
      end: new Date(now.getTime() + YEAR_MS).toISOString().slice(0, 19),
    });
    render();
    list.querySelector<HTMLInputElement>("li:last-child input")?.focus();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const invalid = [...list.querySelectorAll("input")].find((c) => !c.checkValidity());
    if (invalid) {
      note.fail(`${invalid.getAttribute("aria-label")}: ${invalid.validationMessage || "check this value"}`);
      invalid.focus();
      return;
    }
    const backwards = windows.findIndex((w) => Date.parse(utc(w.end)) <= Date.parse(utc(w.start)));
    if (backwards >= 0) {
      note.fail(`Window ${backwards + 1} (${windows[backwards].territory}) ends before it starts.`);
      return;
    }
    const licences = windows.map((w) => ({ territory: w.territory, start: utc(w.start), end: utc(w.end) }));
    note.say("Saving…");
    try {
      const saved = await model.edit((version) => admin.putLicences(model.id, version, licences));
      if (!saved) {
        note.say("Not saved.");
        return;
      }
      windows = windowsOf(saved);
      render();
      note.say(`Saved ${saved.licences?.length ?? 0} window(s) (version ${saved.version}).`);
    } catch (error) {
      note.fail(error);
    }
  });

  model.on((doc, change) => {
    if (change !== "reloaded") return;
    windows = windowsOf(doc);
    render();
    note.say("");
  });
  render();
  return panel("Licence windows", form, note.element);
}
