// Presigned multipart uploads from the browser, straight to S3: a few parts at a time, each
// retried on a network error or a 5xx, and resumable after a reload. The ticket and the
// ETags of the parts already sent are kept in localStorage, the files themselves in IndexedDB
// (which stores File objects), so continuing sends only the missing parts.
import type { JobView, UploadTicket } from "../api";
import * as admin from "./api";

export const CONCURRENCY = 3;
export const MAX_ATTEMPTS = 4;
const RETRY_BASE_MS = 1000;
const STORE_KEY = "flixstack.admin.uploads";
const DB_NAME = "flixstack-admin";
const DB_STORE = "upload-files";

export interface FileFacts {
  name: string;
  size: number;
  type: string;
  lastModified: number;
}

/** An upload under way, as localStorage keeps it. */
export interface Pending {
  ticket: UploadTicket;
  episodeId: string | null;
  file: FileFacts;
  subtitles: { language: string; name: string }[];
  etags: Record<string, string>; // part number -> ETag
  subtitlesSent: string[]; // languages
  startedAt: string;
}

/** The files of an upload, as IndexedDB keeps them. */
export interface UploadFiles {
  video: File;
  subtitles: { language: string; file: File }[];
}

export interface Progress {
  sentBytes: number;
  totalBytes: number;
  partsDone: number;
  partsTotal: number;
  /** Parts sent before this run (a resumed upload). */
  partsCarried: number;
}

export type Report = (progress: Progress) => void;
export type Say = (text: string) => void;

// --- what survives a reload -----------------------------------------------------------------
function readAll(): Record<string, Pending> {
  try {
    return JSON.parse(localStorage.getItem(STORE_KEY) ?? "{}") as Record<string, Pending>;
  } catch {
    return {};
  }
}

function writeAll(all: Record<string, Pending>): void {
  localStorage.setItem(STORE_KEY, JSON.stringify(all));
}

export function pendingFor(titleId: string): Pending[] {
  return Object.values(readAll())
    .filter((p) => p.ticket.title_id === titleId)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

function keep(pending: Pending): void {
  writeAll({ ...readAll(), [pending.ticket.upload_id]: pending });
}

export async function forget(uploadId: string): Promise<void> {
  const all = readAll();
  delete all[uploadId];
  writeAll(all);
  await withStore("readwrite", (store) => store.delete(uploadId)).catch(() => undefined);
}

export function facts(file: File): FileFacts {
  return { name: file.name, size: file.size, type: file.type, lastModified: file.lastModified };
}

export function sameFile(file: File, known: FileFacts): boolean {
  return file.name === known.name && file.size === known.size && file.lastModified === known.lastModified;
}

export function expired(pending: Pending): boolean {
  return Date.parse(pending.ticket.expires_at) <= Date.now();
}

function sentBytes(pending: Pending): number {
  return Object.keys(pending.etags).reduce((sum, n) => {
    const [start, end] = partRange(pending.ticket, pending.file.size, Number(n));
    return sum + end - start;
  }, 0);
}

export function fractionDone(pending: Pending): number {
  return pending.file.size ? sentBytes(pending) / pending.file.size : 0;
}

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(DB_STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("IndexedDB is not available"));
  });
}

async function withStore<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const transaction = db.transaction(DB_STORE, mode);
      const request = work(transaction.objectStore(DB_STORE));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error ?? request.error);
      transaction.onabort = () => reject(transaction.error ?? new Error("IndexedDB transaction aborted"));
    });
  } finally {
    db.close();
  }
}

/** The files of an upload, if this browser kept them. */
export async function filesOf(uploadId: string): Promise<UploadFiles | null> {
  try {
    return ((await withStore("readonly", (store) => store.get(uploadId))) as UploadFiles | undefined) ?? null;
  } catch {
    return null;
  }
}

async function keepFiles(uploadId: string, files: UploadFiles): Promise<boolean> {
  try {
    await withStore("readwrite", (store) => store.put(files, uploadId));
    return true;
  } catch {
    return false; // private windows may refuse: the upload still works, and resumes once the file is chosen again
  }
}

// --- the upload -------------------------------------------------------------------------------
/** A file name the API takes: letters, digits, space and . _ - ( ) + , only. */
export function plainName(name: string): string {
  const cleaned = name.replace(/[^\w .()+,-]/g, "_").replace(/\.\.+/g, ".").slice(-200);
  return /^\w/.test(cleaned) ? cleaned : `upload_${cleaned}`;
}

function partRange(ticket: UploadTicket, size: number, part: number): [number, number] {
  const start = (part - 1) * ticket.part_size_bytes;
  return [start, Math.min(start + ticket.part_size_bytes, size)];
}

class PartFailed extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** PUTs a body to a presigned URL; resolves with the ETag S3 answered. */
function put(url: string, body: Blob, onProgress: (loaded: number) => void, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const abort = (): void => xhr.abort();
    signal.addEventListener("abort", abort, { once: true });
    xhr.open("PUT", url);
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      signal.removeEventListener("abort", abort);
      if (xhr.status >= 200 && xhr.status < 300) {
        const etag = xhr.getResponseHeader("ETag");
        if (etag) resolve(etag);
        else reject(new PartFailed("S3 answered without an ETag the page can read (the bucket's CORS must expose ETag)", false));
      } else {
        reject(new PartFailed(`S3 answered ${xhr.status}`, xhr.status >= 500 || xhr.status === 429));
      }
    };
    xhr.onerror = () => {
      signal.removeEventListener("abort", abort);
      reject(new PartFailed("the network failed", true));
    };
    xhr.onabort = () => reject(new DOMException("The upload was paused", "AbortError"));
    xhr.send(body);
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = window.setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        window.clearTimeout(timer);
        reject(new DOMException("The upload was paused", "AbortError"));
      },
      { once: true },
    );
  });
}

export interface NewUpload {
  titleId: string;
  episodeId: string | null;
  ladder: "per-title" | "fixed";
  files: UploadFiles;
}

/** Asks the API for a ticket and keeps it (and the files) before a byte is sent. */
export async function begin(request: NewUpload): Promise<Pending> {
  const { video, subtitles } = request.files;
  const ticket = await admin.createUpload(request.titleId, {
    filename: plainName(video.name),
    size_bytes: video.size,
    content_type: video.type || "application/octet-stream",
    ladder: request.ladder,
    episode_id: request.episodeId,
    subtitles: subtitles.map((s) => ({ language: s.language, filename: plainName(s.file.name) })),
  });
  const pending: Pending = {
    ticket,
    episodeId: request.episodeId,
    file: facts(video),
    subtitles: subtitles.map((s) => ({ language: s.language, name: s.file.name })),
    etags: {},
    subtitlesSent: [],
    startedAt: new Date().toISOString(),
  };
  keep(pending);
  await keepFiles(ticket.upload_id, request.files);
  return pending;
}

/** Sends what is missing (CONCURRENCY parts at a time), then completes the upload: the
 * answer is its transcode job. Abort ``signal`` to pause; ``run`` again to continue. */
export async function run(
  pending: Pending,
  files: UploadFiles,
  report: Report,
  say: Say,
  signal: AbortSignal,
): Promise<JobView> {
  const { ticket } = pending;
  if (expired(pending)) throw new Error("This upload's links have expired: discard it and upload the file again.");
  const size = files.video.size;
  const total = ticket.parts.length;
  const missing = ticket.parts.filter((p) => !(String(p.part_number) in pending.etags));
  const carried = total - missing.length;
  const inFlight = new Map<number, number>();
  const tell = (): void =>
    report({
      sentBytes: sentBytes(pending) + [...inFlight.values()].reduce((a, b) => a + b, 0),
      totalBytes: size,
      partsDone: Object.keys(pending.etags).length,
      partsTotal: total,
      partsCarried: carried,
    });
  tell();

  // the first part that fails for good stops the others (as pausing does)
  const stop = new AbortController();
  const halt = (): void => stop.abort();
  signal.addEventListener("abort", halt, { once: true });
  const queue = [...missing];
  async function send(partNumber: number, url: string): Promise<void> {
    const [start, end] = partRange(ticket, size, partNumber);
    const body = files.video.slice(start, end);
    for (let attempt = 1; ; attempt++) {
      try {
        inFlight.set(partNumber, 0);
        const etag = await put(url, body, (loaded) => {
          inFlight.set(partNumber, loaded);
          tell();
        }, stop.signal);
        inFlight.delete(partNumber);
        pending.etags[String(partNumber)] = etag;
        keep(pending); // a reload from here on will not send this part again
        tell();
        return;
      } catch (error) {
        inFlight.delete(partNumber);
        tell();
        const retryable = error instanceof PartFailed && error.retryable;
        if (!retryable || attempt >= MAX_ATTEMPTS) {
          throw error instanceof PartFailed ? new Error(`Part ${partNumber}: ${error.message}`) : error;
        }
        const wait = RETRY_BASE_MS * 2 ** (attempt - 1);
        say(`Part ${partNumber} failed (${error.message}); retrying in ${wait / 1000} s (attempt ${attempt + 1} of ${MAX_ATTEMPTS})…`);
        await sleep(wait, stop.signal);
      }
    }
  }
  async function worker(): Promise<void> {
    for (let part = queue.shift(); part; part = queue.shift()) await send(part.part_number, part.url);
  }
  try {
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  } catch (error) {
    halt();
    throw error;
  } finally {
    signal.removeEventListener("abort", halt);
  }

  for (const subtitle of ticket.subtitles) {
    if (pending.subtitlesSent.includes(subtitle.language)) continue;
    const file = files.subtitles.find((s) => s.language === subtitle.language)?.file;
    if (!file) continue;
    say(`Sending the ${subtitle.language} subtitles…`);
    await put(subtitle.url, file, () => undefined, signal);
    pending.subtitlesSent.push(subtitle.language);
    keep(pending);
  }

  say("Completing the upload…");
  const parts = Object.entries(pending.etags)
    .map(([n, etag]) => ({ part_number: Number(n), etag }))
    .sort((a, b) => a.part_number - b.part_number);
  const job = await admin.completeUpload(ticket, parts);
  await forget(ticket.upload_id);
  return job;
}
