// The upload panel: choose a video (and any subtitle sidecars), watch the parts go, pause,
// and after a reload resume what was left; the finished upload's job is followed live.
import type { JobView, TitleDocument } from "../api";
import { el, message } from "../dom";
import * as admin from "./api";
import type { Jobs } from "./jobs";
import type { TitleModel } from "./model";
import * as multipart from "./multipart";
import { Note, Scope, button, field, formatBytes, input, panel, select } from "./ui";

function episodeOptions(doc: TitleDocument): { id: string; label: string }[] {
  return Object.values(doc.episodes ?? {})
    .sort((a, b) => a.season - b.season || a.number - b.number)
    .map((e) => ({
      id: e.id,
      label: `S${e.season}E${e.number} ${(e.localized[doc.default_language] ?? Object.values(e.localized)[0])?.name ?? ""}`,
    }));
}

export function uploadPanel(model: TitleModel, scope: Scope, jobs: Jobs): HTMLElement {
  const note = new Note();

  // --- progress ---------------------------------------------------------------------------
  const bar = el("progress", { max: "1", value: "0", "aria-label": "Upload progress" });
  const figures = el("span", { class: "figures" });
  const parts = el("span", { class: "muted" });
  const pause = button("Pause");
  const progress = el(
    "div",
    { class: "upload-progress" },
    el("div", { class: "upload-name" }),
    bar,
    el("div", { class: "upload-line" }, figures, parts, pause),
  );
  progress.hidden = true;
  let controller: AbortController | null = null;
  scope.add(() => controller?.abort()); // leaving the page pauses; coming back offers to resume
  pause.addEventListener("click", () => controller?.abort());

  function report(p: multipart.Progress): void {
    const percent = p.totalBytes ? (100 * p.sentBytes) / p.totalBytes : 0;
    bar.max = p.totalBytes || 1;
    bar.value = p.sentBytes;
    bar.setAttribute("aria-valuetext", `${percent.toFixed(0)}%`);
    figures.textContent = `${formatBytes(p.sentBytes)} of ${formatBytes(p.totalBytes)} (${percent.toFixed(0)}%)`;
    parts.textContent = ` · part ${p.partsDone} of ${p.partsTotal} sent${p.partsCarried ? ` (${p.partsCarried} before the reload)` : ""}`;
    progress.dataset.partsDone = String(p.partsDone);
    progress.dataset.partsTotal = String(p.partsTotal);
  }

  async function go(pending: multipart.Pending, files: multipart.UploadFiles): Promise<void> {
    controller = new AbortController();
    form.hidden = true;
    resumes.hidden = true;
    progress.hidden = false;
    pause.hidden = false;
    progress.querySelector(".upload-name")!.textContent = `Uploading ${pending.file.name}`;
    note.say(`Uploading ${pending.file.name} (${formatBytes(pending.file.size)})…`);
    let job: JobView;
    try {
      job = await multipart.run(pending, files, report, (text) => note.say(text), controller.signal);
    } catch (error) {
      pause.hidden = true;
      if (error instanceof DOMException && error.name === "AbortError") {
        if (scope.active) note.say(`Paused: ${pending.file.name} can be resumed.`);
      } else {
        note.fail(`The upload stopped: ${message(error)}`);
      }
      if (scope.active) await renderResumes();
      form.hidden = false;
      return;
    } finally {
      controller = null;
    }
    pause.hidden = true;
    progress.hidden = true;
    form.hidden = false;
    form.reset();
    subtitleRows.replaceChildren();
    note.say(`${pending.file.name} is uploaded: job ${job.id.slice(0, 8)} is transcoding it.`);
    jobs.follow(job);
    await model.refresh().catch(() => undefined); // the upload made the title processing
    await renderResumes();
  }

  // --- resuming ----------------------------------------------------------------------------
  const resumes = el("div", { class: "resumes" });

  async function renderResumes(): Promise<void> {
    const pending = multipart.pendingFor(model.id);
    const items = await Promise.all(pending.map(async (p) => resumeItem(p, await multipart.filesOf(p.ticket.upload_id))));
    resumes.replaceChildren(...items);
    resumes.hidden = items.length === 0;
  }

  function resumeItem(pending: multipart.Pending, files: multipart.UploadFiles | null): HTMLElement {
    const percent = Math.floor(100 * multipart.fractionDone(pending));
    const discard = button("Discard", { class: "button subtle", "aria-label": `Discard the upload of ${pending.file.name}` });
    discard.addEventListener("click", async () => {
      await multipart.forget(pending.ticket.upload_id);
      note.say(`Discarded the upload of ${pending.file.name}.`);
      await renderResumes();
    });
    const item = el("div", { class: "resume", "data-upload": pending.ticket.upload_id });
    if (multipart.expired(pending)) {
      item.append(el("p", {}, `The upload of ${pending.file.name} (${percent}%) can no longer be resumed: its links expired.`), discard);
      return item;
    }
    const resume = button(`Resume upload of ${pending.file.name} (${percent}%)`, { class: "primary" });
    const start = (chosen: multipart.UploadFiles): void => void go(pending, chosen);
    if (files) {
      resume.addEventListener("click", () => start(files));
      item.append(resume, discard);
      return item;
    }
    // this browser did not keep the file: the admin picks it again (the same one)
    const again = input({ type: "file", accept: "video/*,.mp4,.mov,.mkv,.mxf,.webm" });
    resume.disabled = true;
    again.addEventListener("change", () => {
      const file = again.files?.[0];
      resume.disabled = !(file && multipart.sameFile(file, pending.file));
      if (file && resume.disabled) note.fail(`That is not ${pending.file.name} (${formatBytes(pending.file.size)}).`);
    });
    resume.addEventListener("click", () => {
      const file = again.files?.[0];
      if (file) start({ video: file, subtitles: [] });
    });
    item.append(field(`Choose ${pending.file.name} again to resume`, again), resume, discard);
    return item;
  }

  // --- a new upload --------------------------------------------------------------------------
  const video = input({ type: "file", accept: "video/*,.mp4,.mov,.mkv,.mxf,.webm", required: "" });
  const ladder = select(["per-title", "fixed"], "per-title");
  const episode = el("select", { required: "" });
  const episodeField = field("Episode", episode);
  const subtitleRows = el("div", { class: "subtitle-rows" });
  const addSubtitles = button("Add subtitles", { class: "button subtle" });
  let subtitleCount = 0;
  addSubtitles.addEventListener("click", () => {
    subtitleCount += 1;
    const n = subtitleCount;
    const language = input({ required: "", size: "6", pattern: admin.LANGUAGE_PATTERN, placeholder: "en", "aria-label": `Subtitle ${n} language` });
    const file = input({ type: "file", accept: ".srt,.vtt", required: "", "aria-label": `Subtitle ${n} file (.srt or .vtt)` });
    const remove = button("Remove", { class: "button subtle", "aria-label": `Remove subtitle ${n}` });
    const row = el("div", { class: "subtitle-row" }, language, file, remove);
    remove.addEventListener("click", () => {
      row.remove();
      addSubtitles.focus();
    });
    subtitleRows.append(row);
    language.focus();
  });
  const form = el(
    "form",
    { class: "upload-form", novalidate: "" },
    field("Video file", video),
    episodeField,
    field("Ladder", ladder, "per-title: rungs chosen for this video; fixed: the standard ladder"),
    el("div", { class: "subtitles" }, el("span", { class: "label" }, "Subtitles (optional)"), subtitleRows, addSubtitles),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, "Upload")),
  );

  function renderEpisodes(doc: TitleDocument): void {
    const series = doc.kind === "series";
    episodeField.hidden = !series;
    episode.disabled = !series;
    const chosen = episode.value;
    const options = episodeOptions(doc);
    episode.replaceChildren(
      el("option", { value: "" }, options.length ? "Choose an episode" : "Add an episode first"),
      ...options.map((o) => el("option", { value: o.id }, o.label)),
    );
    episode.value = options.some((o) => o.id === chosen) ? chosen : "";
  }
  model.on((doc) => renderEpisodes(doc));
  renderEpisodes(model.doc);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const invalid = [...form.querySelectorAll<HTMLInputElement | HTMLSelectElement>("input, select")].find(
      (c) => !c.disabled && !c.checkValidity(),
    );
    if (invalid) {
      const name = invalid.labels?.[0]?.textContent ?? invalid.getAttribute("aria-label") ?? "A field";
      note.fail(`${name}: ${invalid.validationMessage}`);
      invalid.focus();
      return;
    }
    const file = video.files![0];
    const subtitles = [...subtitleRows.querySelectorAll(".subtitle-row")].map((row) => {
      const [language, chosen] = row.querySelectorAll("input");
      return { language: language.value.trim(), file: chosen.files![0] };
    });
    note.say(`Starting the upload of ${file.name}…`);
    try {
      const pending = await multipart.begin({
        titleId: model.id,
        episodeId: model.doc.kind === "series" ? episode.value : null,
        ladder: ladder.value as multipart.NewUpload["ladder"],
        files: { video: file, subtitles },
      });
      await go(pending, { video: file, subtitles });
    } catch (error) {
      note.fail(error);
    }
  });

  void renderResumes();
  return panel("Upload media", resumes, form, progress, note.element);
}
