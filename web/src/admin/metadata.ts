// The metadata form: localized names and synopses (add, edit, remove a language), genres,
// maturity, year, runtime, cast and artwork. Saving sends only what changed (PATCH).
import type { MetadataPatch, TitleDocument } from "../api";
import { el } from "../dom";
import * as admin from "./api";
import type { TitleModel } from "./model";
import { Note, button, canonical, field, input, panel, select, uid } from "./ui";

interface Draft {
  default_language: string;
  localized: Map<string, admin.LocalizedText>;
  genres: Set<string>;
  cast: admin.CastMember[];
  maturity_rating: admin.MaturityRating;
  release_year: string;
  runtime_min: string;
  poster: string;
  backdrop: string;
}

const languageNames = new Intl.DisplayNames(["en"], { type: "language", fallback: "code" });

function languageName(tag: string): string {
  try {
    const name = languageNames.of(tag);
    return name && name !== tag ? `${name} (${tag})` : tag;
  } catch {
    return tag;
  }
}

function draftOf(doc: TitleDocument): Draft {
  return {
    default_language: doc.default_language,
    localized: new Map(Object.entries(doc.localized).map(([k, v]) => [k, { ...v }])),
    genres: new Set(doc.genres ?? []),
    cast: (doc.cast ?? []).map((c) => ({ ...c })),
    maturity_rating: doc.maturity_rating,
    release_year: doc.release_year == null ? "" : String(doc.release_year),
    runtime_min: doc.runtime_min == null ? "" : String(doc.runtime_min),
    poster: doc.artwork?.poster ?? "",
    backdrop: doc.artwork?.backdrop ?? "",
  };
}

const numberOrNull = (text: string): number | null => (text.trim() === "" ? null : Number(text));
const textOrNull = (text: string): string | null => (text.trim() === "" ? null : text.trim());
const same = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

/** What the draft changes in ``doc``: only those fields, and per language only the texts
 * set (null removes one). */
export function patchOf(doc: TitleDocument, draft: Draft): MetadataPatch {
  const patch: MetadataPatch = {};
  const localized: NonNullable<MetadataPatch["localized"]> = {};
  for (const [language, text] of draft.localized) {
    const cleaned = { name: text.name.trim(), synopsis: text.synopsis.trim() };
    if (!same(doc.localized[language], cleaned)) localized[language] = cleaned;
  }
  for (const language of Object.keys(doc.localized)) {
    if (!draft.localized.has(language)) localized[language] = null;
  }
  if (Object.keys(localized).length) patch.localized = localized;
  if (draft.default_language !== doc.default_language) patch.default_language = draft.default_language;
  const genres = [...draft.genres]; // in the order chosen: the first one files the title
  if (!same(genres, doc.genres ?? [])) patch.genres = genres;
  const cast = draft.cast.map((c) => ({ name: c.name.trim(), role: c.role, character: textOrNull(c.character ?? "") }));
  const before = (doc.cast ?? []).map((c) => ({ name: c.name, role: c.role, character: c.character ?? null }));
  if (!same(cast, before)) patch.cast = cast;
  if (draft.maturity_rating !== doc.maturity_rating) patch.maturity_rating = draft.maturity_rating;
  const year = numberOrNull(draft.release_year);
  if (year !== (doc.release_year ?? null)) patch.release_year = year;
  const runtime = numberOrNull(draft.runtime_min);
  if (runtime !== (doc.runtime_min ?? null)) patch.runtime_min = runtime;
  const artwork = { poster: textOrNull(draft.poster), backdrop: textOrNull(draft.backdrop) };
  if (!same(artwork, { poster: doc.artwork?.poster ?? null, backdrop: doc.artwork?.backdrop ?? null })) {
    patch.artwork = artwork;
  }
  return patch;
}

export function metadataPanel(model: TitleModel): HTMLElement {
  const note = new Note();
  const form = el("form", { class: "metadata", novalidate: "" });
  const container = panel("Metadata", form, note.element);
  let draft = draftOf(model.doc);

  function languagesBlock(): HTMLElement {
    const list = el("div", { class: "languages" });
    for (const [language, text] of draft.localized) {
      const name = input({ required: "", maxlength: "200", value: text.name, autocomplete: "off" });
      name.addEventListener("input", () => (text.name = name.value));
      const synopsis = el("textarea", { rows: "3", maxlength: "4000" });
      synopsis.value = text.synopsis;
      synopsis.addEventListener("input", () => (text.synopsis = synopsis.value));
      const remove = button(`Remove ${language}`, { class: "button subtle" });
      const isDefault = language === draft.default_language;
      remove.disabled = isDefault;
      if (isDefault) remove.title = "The default language cannot be removed: choose another default first.";
      remove.addEventListener("click", () => {
        draft.localized.delete(language);
        render();
        container.querySelector<HTMLElement>(".add-language input")?.focus();
      });
      list.append(
        el(
          "fieldset",
          { class: "language", "data-language": language },
          el("legend", {}, languageName(language), isDefault ? el("span", { class: "badge" }, "default") : ""),
          field(`Name (${language})`, name),
          field(`Synopsis (${language})`, synopsis),
          remove,
        ),
      );
    }
    const newLanguage = input({ pattern: admin.LANGUAGE_PATTERN, size: "8", autocomplete: "off", placeholder: "fr" });
    const add = button("Add language");
    const addNote = el("p", { class: "problem", role: "alert" });
    add.addEventListener("click", () => {
      const tag = newLanguage.value.trim();
      if (!new RegExp(`^${admin.LANGUAGE_PATTERN}$`).test(tag)) {
        addNote.textContent = "A language is a BCP-47 tag such as fr, pt-BR or es-419.";
        newLanguage.focus();
        return;
      }
      if (draft.localized.has(tag)) {
        addNote.textContent = `${tag} is there already.`;
        return;
      }
      draft.localized.set(tag, { name: "", synopsis: "" });
      render();
      form.querySelector<HTMLInputElement>(`[data-language="${tag}"] input`)?.focus();
    });
    newLanguage.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        add.click();
      }
    });
    list.append(el("div", { class: "add-language inline" }, field("New language", newLanguage, "e.g. fr, pt-BR"), add, addNote));
    return list;
  }

  function detailsBlock(): HTMLElement {
    const languages = [...draft.localized.keys()];
    const defaultLanguage = select(languages, draft.default_language);
    defaultLanguage.addEventListener("change", () => {
      draft.default_language = defaultLanguage.value;
      render();
      form.querySelector<HTMLSelectElement>(".details select")?.focus();
    });
    const maturity = select(admin.MATURITY_RATINGS, draft.maturity_rating);
    maturity.addEventListener("change", () => (draft.maturity_rating = maturity.value as admin.MaturityRating));
    const year = input({ type: "number", min: "1870", max: "2100", value: draft.release_year, inputmode: "numeric" });
    year.addEventListener("input", () => (draft.release_year = year.value));
    const runtime = input({ type: "number", min: "1", max: "1000", value: draft.runtime_min, inputmode: "numeric" });
    runtime.addEventListener("input", () => (draft.runtime_min = runtime.value));
    return el(
      "div",
      { class: "details row-fields" },
      field("Default language", defaultLanguage),
      field("Maturity rating", maturity),
      field("Release year", year),
      field("Runtime (minutes)", runtime),
    );
  }

  function genresBlock(): HTMLElement {
    const boxes = admin.GENRES.map((genre) => {
      const box = input({ type: "checkbox", value: genre, id: uid("genre") });
      box.checked = draft.genres.has(genre);
      box.addEventListener("change", () => {
        if (box.checked) draft.genres.add(genre);
        else draft.genres.delete(genre);
        limit();
      });
      return box;
    });
    const limit = (): void => {
      const full = draft.genres.size >= admin.MAX_GENRES;
      for (const box of boxes) box.disabled = full && !box.checked;
    };
    limit();
    return el(
      "fieldset",
      { class: "genres" },
      el("legend", {}, `Genres (up to ${admin.MAX_GENRES})`),
      ...boxes.map((box) => el("span", { class: "check" }, box, el("label", { for: box.id }, box.value))),
    );
  }

  function castBlock(): HTMLElement {
    const rows = draft.cast.map((member, index) => {
      const n = index + 1;
      const name = input({ required: "", maxlength: "200", value: member.name, "aria-label": `Cast ${n} name` });
      name.addEventListener("input", () => (member.name = name.value));
      const role = select(admin.ROLES, member.role, { "aria-label": `Cast ${n} role` });
      role.addEventListener("change", () => (member.role = role.value as admin.CastMember["role"]));
      const character = input({ maxlength: "200", value: member.character ?? "", "aria-label": `Cast ${n} character` });
      character.addEventListener("input", () => (member.character = character.value));
      const remove = button("Remove", { class: "button subtle", "aria-label": `Remove cast ${n}` });
      remove.addEventListener("click", () => {
        draft.cast.splice(index, 1);
        render();
        form.querySelector<HTMLElement>(".cast .add")?.focus();
      });
      return el("li", {}, name, role, character, remove);
    });
    const add = button("Add cast member", { class: "button add" });
    add.addEventListener("click", () => {
      draft.cast.push({ name: "", role: "actor", character: null });
      render();
      form.querySelector<HTMLInputElement>(".cast li:last-child input")?.focus();
    });
    return el(
      "fieldset",
      { class: "cast" },
      el("legend", {}, "Cast and crew"),
      rows.length ? el("ol", { class: "cast-list" }, ...rows) : el("p", { class: "muted" }, "Nobody yet."),
      add,
    );
  }

  function artworkBlock(): HTMLElement {
    const poster = input({ value: draft.poster, maxlength: "1024" });
    poster.addEventListener("input", () => (draft.poster = poster.value));
    const backdrop = input({ value: draft.backdrop, maxlength: "1024" });
    backdrop.addEventListener("input", () => (draft.backdrop = backdrop.value));
    return el(
      "div",
      { class: "row-fields" },
      field("Poster", poster, "a media-bucket key or a URL"),
      field("Backdrop", backdrop, "a media-bucket key or a URL"),
    );
  }

  function render(): void {
    form.replaceChildren(
      languagesBlock(),
      detailsBlock(),
      genresBlock(),
      castBlock(),
      artworkBlock(),
      el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, "Save metadata")),
    );
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const invalid = [...form.querySelectorAll<HTMLInputElement>("input, textarea")].find((c) => !c.checkValidity());
    if (invalid) {
      note.fail(`${invalid.labels?.[0]?.textContent ?? invalid.getAttribute("aria-label") ?? "A field"}: ${invalid.validationMessage}`);
      invalid.focus();
      return;
    }
    const patch = patchOf(model.doc, draft);
    if (!Object.keys(patch).length) {
      note.say("Nothing to save.");
      return;
    }
    note.say("Saving…");
    try {
      const saved = await model.edit((version) => admin.editTitle(model.id, version, patch));
      if (!saved) {
        note.say("Not saved.");
        return;
      }
      draft = draftOf(saved);
      render();
      note.say(`Saved (version ${saved.version}).`);
    } catch (error) {
      note.fail(error);
    }
  });

  model.on((doc, change) => {
    if (change !== "reloaded") return;
    draft = draftOf(doc);
    render();
    note.say("");
  });
  render();
  return container;
}
