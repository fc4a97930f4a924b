// Title cards and rows of them.
import type * as api from "../api";
import { el } from "../dom";

export interface CardOptions {
  /** Where the card leads (the title page unless given). */
  href?: string;
  /** Watched so far, 0-100: a progress bar under the art. */
  percent?: number;
  caption?: string;
}

export function card(title: api.TitleCard, options: CardOptions = {}): HTMLElement {
  const art = title.poster_url
    ? el("img", { src: title.poster_url, alt: "", loading: "lazy", decoding: "async" })
    : el("div", { class: "no-art", "aria-hidden": "true" }, title.name);
  const parts: Node[] = [art];
  if (options.percent !== undefined) {
    const bar = el("span", { class: "progress", "aria-hidden": "true" }, el("span", {}));
    (bar.firstChild as HTMLElement).style.width = `${Math.round(options.percent)}%`;
    parts.push(bar);
  }
  parts.push(el("span", { class: "name" }, title.name));
  if (options.caption) parts.push(el("span", { class: "caption" }, options.caption));
  const link = el(
    "a",
    { class: "card", href: options.href ?? `#/title/${encodeURIComponent(title.id)}`, title: title.synopsis },
    ...parts,
  );
  link.dataset.titleId = title.id;
  return el("li", {}, link);
}

export function row(heading: string, cards: HTMLElement[], id: string): HTMLElement {
  const headingId = `row-${id.replace(/[^a-z0-9-]/gi, "-")}`;
  return el(
    "section",
    { class: "row", "aria-labelledby": headingId, "data-row": id },
    el("h2", { id: headingId }, heading),
    el("ul", { class: "cards" }, ...cards),
  );
}

/** A home row: Continue Watching cards play from where the profile stopped. */
export function homeRow(found: api.HomeRow): HTMLElement {
  const resume = new Map((found.resume ?? []).map((item) => [item.title.id, item]));
  const cards = found.items.map((title) => {
    const item = resume.get(title.id);
    if (!item) return card(title);
    const episode = item.episode;
    return card(title, {
      href: `#/watch/${encodeURIComponent(episode?.id ?? title.id)}`,
      percent: item.up_next ? 0 : item.percent,
      caption: episode ? `${item.up_next ? "Up next: " : ""}S${episode.season}:E${episode.number}` : undefined,
    });
  });
  return row(found.title, cards, found.id);
}
