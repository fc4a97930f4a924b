// Small pieces the admin screens share: labelled fields, panels, live notes, and a scope
// that stops a screen's timers and uploads when the route changes.
import { el, message } from "../dom";

/** What a screen holds (timers, requests): all let go of at once, when the route changes. */
export class Scope {
  private readonly cleanups: (() => void)[] = [];
  private closed = false;

  add(cleanup: () => void): void {
    if (this.closed) cleanup();
    else this.cleanups.push(cleanup);
  }

  /** setInterval, cleared with the scope. */
  every(ms: number, tick: () => void): void {
    const timer = window.setInterval(tick, ms);
    this.add(() => window.clearInterval(timer));
  }

  get active(): boolean {
    return !this.closed;
  }

  close(): void {
    this.closed = true;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }
}

let ids = 0;
/** A fresh element id (labels point at inputs by id). */
export function uid(prefix: string): string {
  ids += 1;
  return `${prefix}-${ids}`;
}

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/** A label and its control (the control gets an id if it has none). */
export function field(label: string, control: Control, hint?: string): HTMLElement {
  if (!control.id) control.id = uid("f");
  const parts: Node[] = [el("label", { for: control.id }, label), control];
  if (hint) {
    const hintId = `${control.id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    parts.push(el("small", { id: hintId, class: "hint" }, hint));
  }
  return el("div", { class: "field" }, ...parts);
}

export function input(attrs: Record<string, string> = {}): HTMLInputElement {
  return el("input", { type: "text", ...attrs });
}

export function select(options: readonly string[], value: string, attrs: Record<string, string> = {}): HTMLSelectElement {
  const node = el("select", attrs, ...options.map((o) => el("option", { value: o }, o)));
  node.value = value;
  return node;
}

export function button(text: string, attrs: Record<string, string> = {}): HTMLButtonElement {
  return el("button", { type: "button", class: "button", ...attrs }, text);
}

/** A titled panel (a section named by its heading). */
export function panel(title: string, ...children: Node[]): HTMLElement {
  const headingId = uid("panel");
  return el(
    "section",
    { class: "panel", "aria-labelledby": headingId },
    el("h2", { id: headingId }, title),
    ...children,
  );
}

/** A polite live region for what a panel just did, and an alert for what went wrong. */
export class Note {
  readonly element = el("div", { class: "note" });
  private readonly said = el("p", { class: "status", role: "status", "aria-live": "polite" });
  private readonly failed = el("p", { class: "problem", role: "alert" });

  constructor() {
    this.failed.hidden = true;
    this.element.append(this.said, this.failed);
  }

  say(text: string): void {
    this.failed.hidden = true;
    this.failed.textContent = "";
    this.said.textContent = text;
  }

  fail(error: unknown): void {
    this.said.textContent = "";
    this.failed.textContent = message(error);
    this.failed.hidden = false;
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = -1;
  do {
    value /= 1024;
    unit += 1;
  } while (value >= 1024 && unit < units.length - 1);
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** "2026-03-01 14:05 UTC" from an ISO timestamp. */
export function formatUtc(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** JSON with sorted keys: two values with the same content give the same text. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}
