// A series' seasons and episodes: what there is (and which episodes have media), and forms
// to add a season and an episode. Each addition is an edit with the version read.
import type { TitleDocument } from "../api";
import { el } from "../dom";
import * as admin from "./api";
import type { TitleModel } from "./model";
import { Note, field, input, panel, select } from "./ui";

function episodeName(doc: TitleDocument, episode: NonNullable<TitleDocument["episodes"]>[string]): string {
  return (episode.localized[doc.default_language] ?? Object.values(episode.localized)[0])?.name ?? episode.id;
}

function seasonList(doc: TitleDocument): HTMLElement {
  const seasons = [...(doc.seasons ?? [])].sort((a, b) => a.number - b.number);
  if (!seasons.length) return el("p", { class: "muted" }, "No seasons yet: add the first one below.");
  return el(
    "ol",
    { class: "seasons" },
    ...seasons.map((season) => {
      const name = season.localized?.[doc.default_language]?.name;
      const episodes = (season.episodes ?? []).map((id) => doc.episodes?.[id]).filter((e) => e !== undefined);
      return el(
        "li",
        {},
        el("h3", {}, `Season ${season.number}${name ? `: ${name}` : ""}`),
        episodes.length
          ? el(
              "ol",
              { class: "episode-list" },
              ...episodes.map((episode) =>
                el(
                  "li",
                  {},
                  el("span", { class: "code" }, `E${episode.number}`),
                  el("span", {}, episodeName(doc, episode)),
                  el("span", { class: "muted" }, episode.runtime_min ? `${episode.runtime_min} min` : ""),
                  episode.asset
                    ? el("span", { class: "badge ok" }, "media ready")
                    : el("span", { class: "badge" }, "no media"),
                ),
              ),
            )
          : el("p", { class: "muted" }, "No episodes yet."),
      );
    }),
  );
}

export function seasonsPanel(model: TitleModel): HTMLElement {
  const list = el("div");
  const note = new Note();

  const seasonNumber = input({ type: "number", min: "1", max: "200", required: "", inputmode: "numeric" });
  const seasonName = input({ maxlength: "200", autocomplete: "off" });
  const seasonForm = el(
    "form",
    { class: "inline" },
    field("Season number", seasonNumber),
    field("Season name (optional)", seasonName),
    el("button", { type: "submit", class: "button" }, "Add season"),
  );

  const episodeSeason = select([], "", {});
  const episodeNumber = input({ type: "number", min: "1", max: "1000", required: "", inputmode: "numeric" });
  const episodeName = input({ required: "", maxlength: "200", autocomplete: "off" });
  const episodeRuntime = input({ type: "number", min: "1", max: "600", inputmode: "numeric" });
  const episodeForm = el(
    "form",
    { class: "inline" },
    field("Season", episodeSeason),
    field("Episode number", episodeNumber),
    field("Episode name", episodeName),
    field("Episode runtime (minutes)", episodeRuntime),
    el("button", { type: "submit", class: "button" }, "Add episode"),
  );

  const episodeBlock = el("div", {}, el("h3", { class: "sub" }, "Add an episode"), episodeForm);

  function nextEpisode(doc: TitleDocument, season: number): number {
    const numbers = Object.values(doc.episodes ?? {}).filter((e) => e.season === season).map((e) => e.number);
    return numbers.length ? Math.max(...numbers) + 1 : 1;
  }

  function render(doc: TitleDocument): void {
    list.replaceChildren(seasonList(doc));
    const numbers = (doc.seasons ?? []).map((s) => s.number).sort((a, b) => a - b);
    seasonNumber.value = String(numbers.length ? numbers[numbers.length - 1] + 1 : 1);
    const chosen = episodeSeason.value;
    episodeSeason.replaceChildren(...numbers.map((n) => el("option", { value: String(n) }, `Season ${n}`)));
    if (numbers.includes(Number(chosen))) episodeSeason.value = chosen;
    episodeBlock.hidden = numbers.length === 0;
    if (numbers.length) episodeNumber.value = String(nextEpisode(doc, Number(episodeSeason.value)));
  }
  episodeSeason.addEventListener("change", () => {
    episodeNumber.value = String(nextEpisode(model.doc, Number(episodeSeason.value)));
  });

  seasonForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const language = model.doc.default_language;
    const name = seasonName.value.trim();
    note.say("Adding the season…");
    try {
      const saved = await model.edit((version) =>
        admin.addSeason(model.id, version, {
          number: Number(seasonNumber.value),
          localized: name ? { [language]: { name, synopsis: "" } } : {},
        }),
      );
      if (!saved) return note.say("Not added.");
      seasonName.value = "";
      note.say(`Season ${seasonNumber.value} added.`);
    } catch (error) {
      note.fail(error);
    }
  });

  episodeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const language = model.doc.default_language;
    const season = Number(episodeSeason.value);
    note.say("Adding the episode…");
    try {
      const saved = await model.edit((version) =>
        admin.addEpisode(model.id, version, season, {
          number: Number(episodeNumber.value),
          localized: { [language]: { name: episodeName.value.trim(), synopsis: "" } },
          runtime_min: episodeRuntime.value ? Number(episodeRuntime.value) : null,
        }),
      );
      if (!saved) return note.say("Not added.");
      note.say(`Episode ${episodeNumber.value} of season ${season} added.`);
      episodeName.value = "";
      episodeRuntime.value = "";
    } catch (error) {
      note.fail(error);
    }
  });

  // seasons change with any edit that succeeds (ours) and with a reload
  model.on((doc) => render(doc));
  render(model.doc);
  return panel(
    "Seasons and episodes",
    list,
    el("h3", { class: "sub" }, "Add a season"),
    seasonForm,
    episodeBlock,
    note.element,
  );
}
