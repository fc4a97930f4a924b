// The title an editor page works on: the version its forms started from, the edits made with
// that version (If-Match), and what happens when someone else got there first.
import type { TitleDocument } from "../api";
import { el } from "../dom";
import * as admin from "./api";
import { canonical } from "./ui";

/** Why the title changed: our own edit, a system move we took in (an upload made it
 * processing, its job made it ready), or a reload that dropped local edits. */
export type Change = "saved" | "adopted" | "reloaded";
type Listener = (doc: TitleDocument, change: Change) => void;

/** What admins edit, without what the system moves on its own (state, assets, version). */
function edited(doc: TitleDocument): string {
  const episodes = Object.fromEntries(
    Object.entries(doc.episodes ?? {}).map(([key, episode]) => [key, { ...episode, asset: null }]),
  );
  return canonical({
    default_language: doc.default_language,
    localized: doc.localized,
    genres: doc.genres ?? [],
    cast: doc.cast ?? [],
    maturity_rating: doc.maturity_rating,
    release_year: doc.release_year ?? null,
    runtime_min: doc.runtime_min ?? null,
    artwork: doc.artwork ?? {},
    licences: doc.licences ?? [],
    seasons: doc.seasons ?? [],
    episodes,
  });
}

/** The conflict alert: the title changed since this page read it; Reload drops local edits. */
export class ConflictAlert {
  readonly element: HTMLElement;
  private readonly reloadButton = el("button", { type: "button", class: "primary" }, "Reload");

  constructor(reload: () => Promise<void>) {
    this.element = el(
      "div",
      { class: "conflict", role: "alert" },
      el("h2", {}, "This title was changed by someone else since you opened it."),
      el(
        "p",
        {},
        "Your changes were not saved. Reload to see the current version; your unsaved edits on this page will be discarded.",
      ),
      this.reloadButton,
    );
    this.element.hidden = true;
    this.reloadButton.addEventListener("click", async () => {
      this.reloadButton.disabled = true;
      try {
        await reload();
      } finally {
        this.reloadButton.disabled = false;
      }
    });
  }

  show(focus: boolean): void {
    this.element.hidden = false;
    if (focus) this.reloadButton.focus();
  }

  hide(): void {
    this.element.hidden = true;
  }
}

export class TitleModel {
  private listeners: Listener[] = [];
  readonly conflict: ConflictAlert;

  constructor(public doc: TitleDocument) {
    this.conflict = new ConflictAlert(() => this.reload());
  }

  get id(): string {
    return this.doc.id;
  }

  on(listener: Listener): void {
    this.listeners.push(listener);
  }

  private emit(change: Change): void {
    for (const listener of this.listeners) listener(this.doc, change);
  }

  /** Runs an edit with the version the page has. Null when that version is stale: the
   * conflict alert is up, and nothing was changed. */
  async edit(run: (version: number) => Promise<TitleDocument>): Promise<TitleDocument | null> {
    try {
      this.doc = await run(this.doc.version);
    } catch (error) {
      if (!admin.isStale(error)) throw error;
      this.conflict.show(true);
      return null;
    }
    this.emit("saved");
    return this.doc;
  }

  /** Takes in a fresher copy read in the background. If only the system moved it on (state,
   * assets), the page continues from it; if an admin edited it, the page keeps its version,
   * so its next save is refused, and says so now. */
  adopt(fresh: TitleDocument): void {
    if (fresh.version === this.doc.version) return;
    if (edited(fresh) === edited(this.doc)) {
      this.doc = fresh;
      this.emit("adopted");
    } else {
      this.conflict.show(false);
    }
  }

  /** Reads the title again, dropping every local edit. */
  async reload(): Promise<void> {
    this.doc = await admin.getTitle(this.doc.id);
    this.conflict.hide();
    this.emit("reloaded");
  }

  /** Reads the title again in the background (see ``adopt``). */
  async refresh(): Promise<void> {
    this.adopt(await admin.getTitle(this.doc.id));
  }
}
