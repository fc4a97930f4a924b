// A title's page: what it is and where it stands (header, lifecycle), its metadata, licence
// windows, seasons and episodes, media uploads and transcode jobs.
import type { TitleDocument } from "../api";
import { el, problem, status } from "../dom";
import type { View } from "../router";
import * as admin from "./api";
import { jobsPanel } from "./jobs";
import { licencesPanel } from "./licences";
import { metadataPanel } from "./metadata";
import { TitleModel } from "./model";
import { seasonsPanel } from "./seasons";
import { Note, Scope, button, formatUtc, panel } from "./ui";
import { uploadPanel } from "./upload";

interface Action {
  action: admin.LifecycleAction;
  /** The states it applies to (the API decides; the page only points at these). */
  applies: admin.TitleState[];
  label: string;
  doing: string;
  done: string;
  from: string;
}

const ACTIONS: Action[] = [
  { action: "publish", applies: ["ready"], label: "Publish", doing: "Publishing", done: "Published", from: "a ready title with media and a licence window" },
  { action: "unpublish", applies: ["published"], label: "Unpublish", doing: "Unpublishing", done: "Unpublished", from: "a published title" },
  { action: "archive", applies: ["published", "ready"], label: "Archive", doing: "Archiving", done: "Archived", from: "a published or ready title; its media goes to colder storage" },
  { action: "restore", applies: ["archived"], label: "Restore", doing: "Restoring", done: "Restored", from: "an archived title, published again" },
];

/** Who edited: a user's id (a UUID) shortened; system actors (ingest) as they are. */
function short(actor: string): string {
  return /^[0-9a-f]{8}-/.test(actor) ? `${actor.slice(0, 8)}…` : actor;
}

function stateBadge(state: admin.TitleState): HTMLElement {
  return el("span", { class: `badge state-${state}`, "data-state": state }, state);
}

function header(model: TitleModel): HTMLElement {
  const element = el("header", { class: "title-head" });
  const render = (doc: TitleDocument): void => {
    element.replaceChildren(
      el("a", { href: `#/admin/titles?state=${doc.state}`, class: "back" }, `← ${doc.state} titles`),
      el("h1", {}, admin.nameOf(doc)),
      el(
        "p",
        { class: "facts" },
        stateBadge(doc.state),
        el("span", {}, doc.kind),
        el("span", {}, `version ${doc.version}`),
        el("span", { title: `by ${doc.updated_by}` }, `edited ${formatUtc(doc.updated_at)} by ${short(doc.updated_by)}`),
        el("span", { class: "code" }, doc.id),
      ),
    );
  };
  model.on(render);
  render(model.doc);
  return element;
}

function mediaSummary(doc: TitleDocument): HTMLElement {
  if (doc.kind === "series") {
    const episodes = Object.values(doc.episodes ?? {});
    const ready = episodes.filter((e) => e.asset).length;
    return el("p", { class: "media-summary" }, `${ready} of ${episodes.length} episode(s) have media.`);
  }
  const asset = doc.asset;
  if (!asset) return el("p", { class: "media-summary muted" }, "No media yet: upload a video below.");
  const rungs = asset.renditions.map((r) => `${r.height}p`).join(", ");
  return el(
    "p",
    { class: "media-summary" },
    `Media ${asset.version.slice(0, 8)}: ${Math.round(asset.duration_s)} s, ${rungs}`,
    asset.protection !== "none" ? `, ${asset.protection}` : "",
    asset.subtitle_languages.length ? `, subtitles ${asset.subtitle_languages.join(", ")}` : "",
    ".",
  );
}

function lifecyclePanel(model: TitleModel): HTMLElement {
  const note = new Note();
  const where = el("p", { class: "where" });
  const media = el("div");
  const buttons = ACTIONS.map(({ action, label, doing, done, from }) => {
    const control = button(label, { "data-action": action, title: `For ${from}` });
    control.addEventListener("click", async () => {
      for (const b of buttons) b.disabled = true;
      note.say(`${doing}…`);
      try {
        const saved = await model.edit((version) => admin.act(model.id, version, action));
        note.say(saved ? `${done}: the title is ${saved.state} now.` : `${label}: not done.`);
      } catch (error) {
        note.fail(error); // e.g. publishing without media or a licence window: the API says why
      } finally {
        for (const b of buttons) b.disabled = false;
      }
    });
    return control;
  });
  const render = (doc: TitleDocument): void => {
    where.replaceChildren("The title is ", stateBadge(doc.state), doc.published_at ? ` (first published ${formatUtc(doc.published_at)}).` : ".");
    media.replaceChildren(mediaSummary(doc));
    ACTIONS.forEach(({ applies }, i) => buttons[i].classList.toggle("applies", applies.includes(doc.state)));
  };
  model.on(render);
  render(model.doc);
  return panel("Lifecycle", where, media, el("div", { class: "actions lifecycle-actions" }, ...buttons), note.element);
}

export async function editorView(view: View, nav: HTMLElement, titleId: string): Promise<void> {
  view.show(nav, status("Loading the title…"));
  let doc: TitleDocument;
  try {
    doc = await admin.getTitle(titleId);
  } catch (error) {
    view.show(nav, el("a", { href: "#/admin/titles", class: "back" }, "← Titles"), problem(error));
    return;
  }
  const scope = new Scope();
  view.hold(() => scope.close());
  const model = new TitleModel(doc);
  const jobs = jobsPanel(model, scope);
  const reloaded = new Note();
  model.on((_doc, change) => {
    if (change === "reloaded") reloaded.say("Reloaded: showing the current version.");
  });
  view.show(
    nav,
    header(model),
    model.conflict.element,
    reloaded.element,
    el(
      "div",
      { class: "editor" },
      el(
        "div",
        { class: "main-column" },
        metadataPanel(model),
        licencesPanel(model),
        ...(doc.kind === "series" ? [seasonsPanel(model)] : []),
      ),
      el("div", { class: "side-column" }, lifecyclePanel(model), uploadPanel(model, scope, jobs), jobs.element),
    ),
  );
}
