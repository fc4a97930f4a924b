// Transcode jobs: the one under way, polled every second (state, stage, percent) until it is
// published or fails, and the title's jobs, newest first.
import type { JobView } from "../api";
import { el, message } from "../dom";
import * as admin from "./api";
import type { TitleModel } from "./model";
import { Scope, formatUtc, panel } from "./ui";

const POLL_MS = 1000;

/** "12-05 07:07" (UTC): the jobs table is narrow; the cell's title has the whole time. */
function shortUtc(iso: string): string {
  return formatUtc(iso).slice(5, 16);
}

function done(job: JobView): boolean {
  return admin.TERMINAL_JOB_STATES.includes(job.state);
}

function renditions(job: JobView): string {
  return (job.renditions ?? [])
    .map((r) => `${r.height}p`)
    .sort((a, b) => parseInt(b) - parseInt(a))
    .join(", ");
}

function outcome(job: JobView): string {
  if (job.state === "FAILED") return job.error ? `${job.error.reason}: ${job.error.message}` : "failed";
  if (job.state === "PUBLISHED") return renditions(job) || "published";
  return job.stage ?? "";
}

export interface Jobs {
  element: HTMLElement;
  /** Follows a job live until it ends. */
  follow(job: JobView): void;
}

export function jobsPanel(model: TitleModel, scope: Scope): Jobs {
  const heading = el("h3", { class: "sub" }, "Current job");
  const bar = el("progress", { max: "100", value: "0", "aria-label": "Transcode progress" });
  const state = el("b", { class: "job-state" });
  const detail = el("span", { class: "job-detail" });
  const live = el("p", { class: "status", role: "status", "aria-live": "polite" });
  const failure = el("p", { class: "problem", role: "alert" });
  const current = el(
    "div",
    { class: "job-live" },
    heading,
    el("div", { class: "job-line" }, state, detail),
    bar,
    live,
    failure,
  );
  current.hidden = true;
  failure.hidden = true;

  const body = el("tbody");
  const table = el(
    "table",
    { class: "jobs" },
    el("caption", { class: "visually-hidden" }, "Transcode jobs of this title"),
    el("thead", {}, el("tr", {}, ...["Job", "Started", "State", "Progress", "Outcome"].map((h) => el("th", { scope: "col" }, h)))),
    body,
  );
  const none = el("p", { class: "muted" }, "No jobs yet: upload a video to start one.");
  const listNote = el("p", { class: "problem", role: "alert" });
  listNote.hidden = true;
  let following: string | null = null;
  let timer: number | undefined;

  function show(job: JobView): void {
    current.hidden = false;
    current.dataset.job = job.id;
    current.dataset.state = job.state;
    heading.textContent = `Job ${job.id.slice(0, 8)}`;
    state.textContent = job.state;
    detail.textContent = job.stage && !done(job) ? ` · ${job.stage}` : "";
    bar.value = job.state === "PUBLISHED" ? 100 : job.percent;
    bar.setAttribute("aria-valuetext", `${job.state}, ${Math.round(job.percent)}%`);
    if (job.state === "FAILED") {
      failure.hidden = false;
      failure.textContent = `The job failed: ${job.error ? `${job.error.message} (${job.error.reason})` : "no cause given"}.`;
      live.textContent = "";
    } else {
      failure.hidden = true;
      live.textContent =
        job.state === "PUBLISHED"
          ? `Done: ${renditions(job) || "the asset"} published to the title.`
          : `${job.state.toLowerCase()}${job.stage ? `: ${job.stage}` : ""}, ${Math.round(job.percent)}%`;
    }
  }

  async function list(): Promise<JobView[]> {
    try {
      const jobs = await admin.titleJobs(model.id);
      listNote.hidden = true;
      body.replaceChildren(
        ...jobs.map((job) =>
          el(
            "tr",
            { "data-job": job.id },
            el("td", { class: "code" }, job.id.slice(0, 8)),
            el("td", { class: "when", title: job.created_at ? formatUtc(job.created_at) : "" }, job.created_at ? shortUtc(job.created_at) : ""),
            el("td", {}, el("span", { class: `badge job-${job.state.toLowerCase()}` }, job.state)),
            el("td", { class: "num" }, `${Math.round(job.state === "PUBLISHED" ? 100 : job.percent)}%`),
            el("td", {}, outcome(job)),
          ),
        ),
      );
      table.hidden = jobs.length === 0;
      none.hidden = jobs.length > 0;
      return jobs;
    } catch (error) {
      listNote.hidden = false;
      listNote.textContent = `Could not list the jobs: ${message(error)}`;
      return [];
    }
  }

  async function poll(jobId: string): Promise<void> {
    let last = "";
    while (scope.active && following === jobId) {
      try {
        const job = await admin.job(jobId);
        if (!scope.active || following !== jobId) return;
        show(job);
        if (job.state !== last) {
          last = job.state;
          await list();
          await model.refresh().catch(() => undefined); // the job moved the title on
        }
        if (done(job)) return;
      } catch (error) {
        live.textContent = `Could not read the job (${message(error)}); trying again…`;
      }
      await new Promise((resolve) => (timer = window.setTimeout(resolve, POLL_MS)));
    }
  }

  function follow(job: JobView): void {
    following = job.id;
    show(job);
    void poll(job.id);
  }
  scope.add(() => {
    following = null;
    window.clearTimeout(timer);
  });

  void list().then((jobs) => {
    const running = jobs.find((job) => !done(job));
    if (running && following === null) follow(running);
  });

  const element = panel("Transcode jobs", current, el("div", { class: "table-wrap" }, table), none, listNote);
  return { element, follow };
}
