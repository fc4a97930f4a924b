// A title page: art and details, Play or Resume, My List, thumbs up or down, and for a series
// its seasons and episodes.
import * as api from "../api";
import { el, message, problem, status } from "../dom";
import { icon } from "../icons";
import { clock } from "../player/controls";
import type { View } from "../router";

function toggle(label: string, face: (Node | string)[], pressed: boolean): HTMLButtonElement {
  return el(
    "button",
    { type: "button", class: "toggle", "aria-pressed": String(pressed), "aria-label": label, title: label },
    ...face,
  );
}

function listFace(listed: boolean): (Node | string)[] {
  return [icon(listed ? "check" : "plus"), " My List"];
}

function pressed(button: HTMLButtonElement, on: boolean): void {
  button.setAttribute("aria-pressed", String(on));
}

export async function titleView(view: View, profile: api.Profile, titleId: string): Promise<void> {
  view.show(status("Loading…"));
  let detail: api.TitleDetail;
  let listed: boolean;
  let rating: api.Rating["rating"];
  let where: api.ContinueItem | undefined;
  try {
    const [found, list, ratings, watching] = await Promise.all([
      api.title(titleId),
      api.myList(profile.id),
      api.ratings(profile.id),
      api.continueWatching(profile.id),
    ]);
    detail = found;
    listed = list.items.some((item) => item.title.id === titleId);
    rating = ratings.find((r) => r.title_id === titleId)?.rating ?? null;
    where = watching.items.find((item) => item.title.id === titleId);
  } catch (error) {
    view.show(problem(error));
    return;
  }
  const note = el("p", { class: "status", role: "status" });
  const watch = (target: string, from?: number): string =>
    `#/watch/${encodeURIComponent(target)}${from === undefined ? "" : `?from=${from}`}`;
  const actions = el("div", { class: "actions" });
  if (detail.playable || detail.seasons.length) {
    // a series plays where the profile left off (the grant decides); a movie resumes
    const episode = where?.episode;
    const label = !where
      ? "Play"
      : episode
        ? `${where.up_next ? "Play" : "Resume"} S${episode.season}:E${episode.number}`
        : `Resume from ${clock(where.position_s)}`;
    actions.append(el("a", { class: "button primary", href: watch(titleId) }, `▶ ${label}`));
    if (where && !episode) {
      actions.append(el("a", { class: "button", href: watch(titleId, 0) }, "Play from the start"));
    }
  }
  const listButton = toggle("My List", listFace(listed), listed);
  listButton.addEventListener("click", async () => {
    listButton.disabled = true;
    try {
      if (listed) await api.removeFromList(profile.id, titleId);
      else await api.addToList(profile.id, titleId);
      listed = !listed;
      pressed(listButton, listed);
      listButton.replaceChildren(...listFace(listed));
      note.textContent = listed ? "Added to My List." : "Removed from My List.";
    } catch (error) {
      note.textContent = message(error);
    } finally {
      listButton.disabled = false;
    }
  });
  const up = toggle("I like this", [icon("thumbUp")], rating === "up");
  const down = toggle("Not for me", [icon("thumbUp", true)], rating === "down");
  const rate = async (wanted: "up" | "down"): Promise<void> => {
    const next = rating === wanted ? "clear" : wanted;
    try {
      rating = (await api.rate(profile.id, titleId, next)).rating;
      pressed(up, rating === "up");
      pressed(down, rating === "down");
      note.textContent = rating === "down" ? "We won't suggest this again." : rating === "up" ? "Noted: more like this." : "Rating removed.";
    } catch (error) {
      note.textContent = message(error);
    }
  };
  up.addEventListener("click", () => void rate("up"));
  down.addEventListener("click", () => void rate("down"));
  actions.append(listButton, up, down);

  const facts = [detail.release_year, detail.maturity_rating, detail.runtime_min ? `${detail.runtime_min} min` : null, detail.genres.join(", ")]
    .filter(Boolean)
    .join(" · ");
  const people = detail.cast.length
    ? el("p", { class: "cast" }, `With ${detail.cast.map((c) => c.name).slice(0, 6).join(", ")}`)
    : "";
  const languages = detail.subtitle_languages.length
    ? el("p", { class: "muted" }, `Subtitles: ${detail.subtitle_languages.join(", ")}`)
    : "";
  const art = detail.poster_url
    ? el("img", { class: "poster", src: detail.poster_url, alt: `${detail.name} poster` })
    : el("div", { class: "poster no-art", "aria-hidden": "true" }, detail.name);
  const seasons = detail.seasons.map((season) =>
    el(
      "section",
      { class: "season", "aria-labelledby": `season-${season.number}` },
      el("h2", { id: `season-${season.number}` }, season.name ?? `Season ${season.number}`),
      el(
        "ol",
        { class: "episodes" },
        ...season.episodes.map((episode) =>
          el(
            "li",
            { "data-episode-id": episode.id },
            episode.playable
              ? el("a", { href: watch(episode.id), "aria-label": `Play episode ${episode.number}: ${episode.name}` }, "▶")
              : el("span", { class: "muted", "aria-label": "Not yet available" }, "·"),
            el("div", {}, el("h3", {}, `${episode.number}. ${episode.name}`), el("p", { class: "muted" }, episode.synopsis)),
            el("span", { class: "muted" }, episode.runtime_min ? `${episode.runtime_min} min` : ""),
          ),
        ),
      ),
    ),
  );
  view.show(
    el(
      "article",
      { class: "title-page", "data-title-id": detail.id },
      art,
      el("div", { class: "about" }, el("h1", {}, detail.name), el("p", { class: "muted" }, facts), actions, note, el("p", {}, detail.synopsis), people, languages),
    ),
    ...seasons,
  );
}
