// The player: asks POST /playback for a grant (ranked CDNs, signed cookies, key URI, resume
// point), plays HLS with hls.js through the first CDN and fails over to the next one when a
// request errors, and sends player events (session start, first frame, heartbeats, stalls,
// bit rate switches, errors, the end), from which the event consumer keeps progress and
// QoE. With format "dash" it plays the DASH manifest with dash.js instead (CENC media through
// EME ClearKey, licensed by the API). hls.js and dash.js are loaded on first play, so the
// rest of the app stays small.
import type Hls from "hls.js";
import type {
  HlsConfig,
  Loader,
  LoaderCallbacks,
  LoaderConfiguration,
  LoaderContext,
  LoaderStats,
} from "hls.js";
import type { MediaPlayerClass } from "dashjs";
import * as api from "../api";
import { EventSender } from "./events";

const HEARTBEAT_MS = 10_000;
const START_ESTIMATE_BPS = 1_000_000;
const START_MARGIN = 0.7; // hls.js's abrBandWidthUpFactor

export interface Level {
  height: number;
  bitrate: number;
}

export interface SubtitleTrack {
  index: number;
  language: string;
  label: string;
}

export interface Failover {
  from: string;
  to: string;
  url: string;
  kind: string;
  at: number;
}

/** What tests and curious people can read: ``window.flixstack``. */
export interface PlayerState {
  grant: api.PlaybackGrant | null;
  cdn: string | null;
  cdnIndex: number;
  failovers: Failover[];
  startedAt: number;
  firstFrameMs: number | null;
  stalls: number;
  stallMs: number;
  levelSwitches: { height: number; at: number }[];
  heartbeats: number;
  /** Scrub-preview frames loaded (0 until the thumbnails track is here). */
  thumbnails: number;
  errors: string[];
  events: string[];
  eventsSent: number;
  hls?: Hls;
  dash?: MediaPlayerClass;
}

declare global {
  interface Window {
    flixstack?: PlayerState;
  }
}

export interface PlayOptions {
  video: HTMLVideoElement;
  profileId: string;
  targetId: string;
  format: "hls" | "dash";
  /** Where to start instead of the grant's resume point (0: from the beginning). */
  startAt?: number;
  onStatus: (text: string) => void;
}

export class PlaybackRefused extends Error {}

/** The origin part of each CDN's manifest URL, best first. */
function origins(grant: api.PlaybackGrant): string[] {
  return grant.cdns.map((cdn) => new URL(cdn.hls_url).origin);
}

// hls.js orders levels by bit rate: the index of the best rung the estimate affords with
// hls.js's own up-switch margin, so that its ABR does not move off the start rung while the
// first segment's key is loading (hls.js then drops that load and retries)
function startLevel(renditions: api.PlaybackGrant["renditions"]): number {
  const rates = renditions.map((r) => r.bandwidth).sort((a, b) => a - b);
  const affordable = rates.filter((rate) => rate <= START_ESTIMATE_BPS * START_MARGIN);
  return Math.max(0, affordable.length - 1);
}

type LoaderClass = new (config: HlsConfig) => Loader<LoaderContext>;

export class Player {
  readonly state: PlayerState;
  levels: Level[] = [];
  subtitles: SubtitleTrack[] = [];
  /** Called when the levels or subtitle tracks are known or change. */
  onTracks: () => void = () => {};
  /** Called with a message when playback cannot go on. */
  onFatal: (message: string) => void = () => {};
  private events: EventSender | null = null;
  private keyBytes: ArrayBuffer | null = null;
  private key: Promise<ArrayBuffer> | null = null;
  private lastBitrate: number | null = null;
  private ended = false;
  private heartbeatTimer = 0;
  private readonly listening = new AbortController();
  private readonly video: HTMLVideoElement;

  constructor(private readonly options: PlayOptions) {
    this.video = options.video;
    this.state = {
      grant: null, cdn: null, cdnIndex: 0, failovers: [], startedAt: performance.now(),
      firstFrameMs: null, stalls: 0, stallMs: 0, levelSwitches: [], heartbeats: 0, thumbnails: 0, errors: [],
      events: [], eventsSent: 0,
    }; // prettier-ignore
    window.flixstack = this.state;
  }

  get grant(): api.PlaybackGrant | null {
    return this.state.grant;
  }

  /** The active CDN's URL for a path of the asset (thumbnails, subtitles). */
  cdnUrl(path: string): string {
    const grant = this.state.grant!;
    return `${origins(grant)[this.state.cdnIndex]}/${path.replace(/^\//, "")}`;
  }

  async start(): Promise<void> {
    const { profileId, targetId } = this.options;
    let grant: api.PlaybackGrant;
    try {
      grant = await api.playback(profileId, targetId);
    } catch (error) {
      const reason = error instanceof api.ApiError ? `${error.reason}: ${error.message}` : String(error);
      this.state.errors.push(`playback:${reason}`);
      throw new PlaybackRefused(`Playback refused (${reason}).`);
    }
    this.state.grant = grant;
    this.state.cdn = grant.cdns[0].name;
    this.events = new EventSender(
      profileId,
      { grant, cdn: () => this.state.cdn ?? "" },
      this.state,
    );
    if (this.options.format === "dash") await this.playDash(grant);
    else await this.playHls(grant);
  }

  /** Ends the session (its last events go out) and lets go of the media. */
  destroy(reason = "exit"): void {
    this.end(reason);
    this.listening.abort();
    window.clearInterval(this.heartbeatTimer);
    this.events?.close();
    this.state.hls?.destroy();
    this.state.dash?.destroy();
    this.video.removeAttribute("src");
    this.video.load();
  }

  chooseLevel(index: number): void {
    const { hls, dash } = this.state;
    if (hls) hls.currentLevel = index;
    if (dash) {
      const auto = index < 0;
      dash.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: auto } } } });
      if (!auto) dash.setRepresentationForTypeByIndex("video", index, true);
    }
  }

  /** A subtitle track by its index in ``subtitles``, or -1 for none. */
  chooseSubtitle(index: number): void {
    const hls = this.state.hls;
    if (hls) {
      hls.subtitleDisplay = index >= 0;
      hls.subtitleTrack = index;
      return;
    }
    const tracks = this.textTracks();
    tracks.forEach((track, n) => (track.mode = n === index ? "showing" : "disabled"));
  }

  get subtitle(): number {
    const hls = this.state.hls;
    if (hls) return hls.subtitleDisplay ? hls.subtitleTrack : -1;
    return this.textTracks().findIndex((track) => track.mode === "showing");
  }

  private textTracks(): TextTrack[] {
    return Array.from(this.video.textTracks).filter(
      (t) => t.kind === "subtitles" || t.kind === "captions",
    );
  }

  private fail(message: string, code: string): void {
    this.state.errors.push(message);
    this.events?.emit("error", { code, fatal: true, message: message.slice(0, 500) });
    this.end("error");
    this.onFatal(message);
  }

  // --- CDN failover: every request goes to the active CDN; an error moves to the next ---
  private onCdn(url: string, index: number): string {
    const all = origins(this.state.grant!);
    const from = all.find((origin) => url.startsWith(`${origin}/`));
    return from === undefined ? url : all[index] + url.slice(from.length);
  }

  private failoverLoader(Base: LoaderClass): LoaderClass {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const player = this;
    return class FailoverLoader implements Loader<LoaderContext> {
      private inner: Loader<LoaderContext>;
      private gone = false;

      constructor(private readonly config: HlsConfig) {
        this.inner = new Base(config);
      }

      get stats(): LoaderStats {
        return this.inner.stats;
      }

      get context(): LoaderContext | null {
        return this.inner.context;
      }

      abort(): void {
        this.gone = true;
        this.inner.abort();
      }

      destroy(): void {
        this.gone = true;
        this.inner.destroy();
      }

      load(
        context: LoaderContext,
        config: LoaderConfiguration,
        callbacks: LoaderCallbacks<LoaderContext>,
      ): void {
        const grant = player.state.grant!;
        const original = context.url;
        if (player.key && original === grant.key_uri) {
          this.fromPrefetch(context, config, callbacks);
          return;
        }
        const attempt = (): void => {
          const index = player.state.cdnIndex;
          const onFailure =
            <K extends "onError" | "onTimeout">(kind: K) =>
            (...args: Parameters<LoaderCallbacks<LoaderContext>[K]>): void => {
              const next = index + 1;
              const ours = origins(grant).some((origin) => original.startsWith(`${origin}/`));
              if (ours && next < grant.cdns.length) {
                if (player.state.cdnIndex === index) {
                  player.state.cdnIndex = next;
                  player.state.cdn = grant.cdns[next].name;
                  player.state.failovers.push({
                    from: grant.cdns[index].name, to: player.state.cdn, url: context.url, kind,
                    at: player.video.currentTime,
                  }); // prettier-ignore
                  player.options.onStatus(`switched to ${player.state.cdn}`);
                }
                this.inner.destroy();
                this.inner = new Base(this.config);
                attempt();
                return;
              }
              (callbacks[kind] as (...a: typeof args) => void)(...args);
            };
          context.url = player.onCdn(original, index);
          this.inner.load(context, config, {
            ...callbacks,
            onError: onFailure("onError"),
            onTimeout: onFailure("onTimeout"),
          });
        };
        attempt();
      }

      // The key was fetched beside the playlists as soon as the grant came: hls.js asks for
      // it once per track and again on some level switches; all get the same bytes.
      // Answered synchronously once the bytes are here: hls.js keys its key loads by URI, and
      // a second load of the same URI while one is in flight (the audio and the video track
      // start together) makes the first fail ("decryptdata unset or changed") and retry a
      // second later.
      private fromPrefetch(
        context: LoaderContext,
        config: LoaderConfiguration,
        callbacks: LoaderCallbacks<LoaderContext>,
      ): void {
        const stats = this.inner.stats;
        stats.loading.start = performance.now();
        const answer = (data: ArrayBuffer): void => {
          if (this.gone) return;
          stats.loading.first = stats.loading.end = performance.now();
          stats.loaded = stats.total = data.byteLength;
          callbacks.onSuccess({ url: context.url, data: data.slice(0) }, stats, context, null);
        };
        if (player.keyBytes) {
          answer(player.keyBytes);
          return;
        }
        player.key!.then(answer, () => {
          player.key = null; // refused or failed: ask again the usual way, errors and all
          if (!this.gone) this.load(context, config, callbacks);
        });
      }
    };
  }

  private prefetchKey(uri: string): Promise<ArrayBuffer> {
    return fetch(uri, { headers: api.authHeaders(this.options.profileId) })
      .then((response) =>
        response.ok ? response.arrayBuffer() : Promise.reject(new Error(`key ${response.status}`)),
      )
      .then((data) => (this.keyBytes = data));
  }

  // --- events ---
  private emit(type: string, fields?: Record<string, unknown>, at?: Date): void {
    this.events?.emit(type, fields, at);
  }

  /** The rendition playing now, in bits per second. */
  private bitrate(): number {
    const { hls, dash } = this.state;
    if (hls && hls.currentLevel >= 0) return hls.levels[hls.currentLevel].bitrate;
    const playing = dash?.getCurrentRepresentationForType("video");
    return playing ? playing.bandwidth : 0;
  }

  /** Seconds buffered ahead of the play head. */
  buffered(): number {
    const ranges = this.video.buffered;
    const now = this.video.currentTime;
    for (let i = 0; i < ranges.length; i += 1) {
      if (ranges.start(i) <= now && now <= ranges.end(i)) return ranges.end(i) - now;
    }
    return 0;
  }

  private heartbeat(): void {
    const video = this.video;
    if (!this.state.grant || !video.duration || video.currentTime === 0 || this.ended) return;
    this.state.heartbeats += 1;
    this.emit("heartbeat", {
      position_s: video.currentTime,
      duration_s: video.duration,
      bitrate_bps: this.bitrate(),
      buffer_s: this.buffered(),
    });
  }

  private end(reason: string): void {
    if (this.ended || !this.state.grant) return;
    this.heartbeat();
    this.ended = true;
    this.emit("session_end", { position_s: this.video.currentTime, reason });
    this.events?.flush();
  }

  private switched(height: number, toBps: number): void {
    this.state.levelSwitches.push({ height, at: this.video.currentTime });
    if (this.lastBitrate !== null && this.lastBitrate !== toBps) {
      this.emit("bitrate_switch", {
        position_s: this.video.currentTime,
        from_bps: this.lastBitrate,
        to_bps: toBps,
        height,
      });
    }
    this.lastBitrate = toBps;
  }

  // Stalls, the first frame, heartbeats and the end: the same whichever library plays
  private watch(): void {
    const video = this.video;
    const state = this.state;
    const signal = this.listening.signal;
    this.emit("session_start", {}, new Date(performance.timeOrigin + state.startedAt));
    let stalledAt: number | null = null;
    video.addEventListener(
      "waiting",
      () => {
        if (state.firstFrameMs !== null && stalledAt === null && !video.seeking) {
          state.stalls += 1;
          stalledAt = performance.now();
          this.emit("stall_start", { position_s: video.currentTime });
        }
      },
      { signal },
    );
    video.addEventListener(
      "playing",
      () => {
        if (stalledAt !== null) {
          const stalled = performance.now() - stalledAt;
          state.stallMs += stalled;
          stalledAt = null;
          this.emit("stall_end", { position_s: video.currentTime, stall_ms: stalled });
        }
        this.options.onStatus(`playing from ${state.cdn}`);
      },
      { signal },
    );
    const firstFrame = (): void => {
      if (state.firstFrameMs !== null || this.ended) return;
      state.firstFrameMs = performance.now() - state.startedAt;
      this.emit("first_frame", { startup_ms: state.firstFrameMs });
      this.events?.flush();
    };
    if (typeof video.requestVideoFrameCallback === "function") video.requestVideoFrameCallback(firstFrame);
    else video.addEventListener("playing", firstFrame, { once: true, signal });
    video.addEventListener(
      "pause",
      () => {
        this.heartbeat();
        this.events?.flush();
      },
      { signal },
    );
    video.addEventListener("ended", () => this.end("ended"), { signal });
    window.addEventListener("pagehide", () => this.end("exit"), { signal });
    this.heartbeatTimer = window.setInterval(() => this.heartbeat(), HEARTBEAT_MS);
  }

  private startPosition(grant: api.PlaybackGrant): number {
    return this.options.startAt ?? grant.resume_position_s;
  }

  /** Plays, unmuted if the browser allows it, else muted (autoplay policy). */
  private autoplay(): void {
    this.video.play().catch((error: DOMException) => {
      if (error.name !== "NotAllowedError") return;
      this.state.errors.push(`autoplay:${error.name}`);
      this.video.muted = true;
      void this.video.play().catch(() => {});
    });
  }

  private async playHls(grant: api.PlaybackGrant): Promise<void> {
    this.key = grant.key_uri ? this.prefetchKey(grant.key_uri) : null;
    const { default: HlsClass } = await import("hls.js");
    if (!HlsClass.isSupported()) {
      this.fail("This browser cannot play HLS with Media Source Extensions.", "unsupported");
      return;
    }
    const keyUri = grant.key_uri;
    const start = this.startPosition(grant);
    const startPosition = start > 0 ? start : -1;
    const headers = api.authHeaders(this.options.profileId);
    const hls = new HlsClass({
      // With a key, no playlist or segment loads until the prefetched key is here (it
      // usually is by the time the master playlist is parsed), so every key load hls.js
      // makes is answered at once (see fromPrefetch)
      autoStartLoad: !this.key,
      startPosition,
      // Start on the rung a 1 Mbit/s estimate affords (a small first segment: a fast first
      // frame on any network), then let ABR climb from what segments measure. hls.js would
      // otherwise start on the manifest's first rung, whatever its size; and its own pick
      // (startLevel -1) may change once the playlists have loaded, racing the first
      // segment's key load.
      startLevel: startLevel(grant.renditions),
      abrEwmaDefaultEstimate: START_ESTIMATE_BPS,
      // Our segments are fMP4 (nothing to transmux) and decrypted with WebCrypto: a worker
      // only adds its start-up and copies to the first frame (measured: p50 -150 to -200 ms)
      enableWorker: false,
      // Buffer at most 30 s ahead (hls.js would otherwise fill 60 MB: a low-rate title
      // whole). Bytes past what a viewer watches are CDN egress paid for nothing, and a
      // bounded buffer keeps ABR and CDN failover responsive.
      maxBufferLength: 20,
      maxMaxBufferLength: 30,
      loader: this.failoverLoader(HlsClass.DefaultConfig.loader),
      xhrSetup(xhr, url) {
        if (keyUri && url === keyUri) {
          xhr.open("GET", url, true);
          Object.entries(headers).forEach(([name, value]) => xhr.setRequestHeader(name, value));
        } else {
          xhr.withCredentials = true; // the signed cookies go to the CDN
        }
      },
    });
    this.state.hls = hls;
    hls.subtitleDisplay = false; // until the viewer picks a track
    const E = HlsClass.Events;
    hls.on(E.MANIFEST_PARSED, () => {
      this.levels = hls.levels.map((l) => ({ height: l.height, bitrate: l.bitrate }));
      this.onTracks();
    });
    hls.on(E.SUBTITLE_TRACKS_UPDATED, () => {
      this.subtitles = hls.subtitleTracks.map((t, index) => ({
        index,
        language: t.lang ?? "",
        label: t.name || t.lang || `Track ${index + 1}`,
      }));
      this.onTracks();
    });
    hls.on(E.LEVEL_SWITCHED, (_event, data) => {
      this.switched(hls.levels[data.level].height, hls.levels[data.level].bitrate);
    });
    hls.on(E.ERROR, (_event, data) => {
      const code = data.response?.code !== undefined ? `:${data.response.code}` : "";
      this.state.errors.push(`${data.type}:${data.details}${code}${data.fatal ? ":fatal" : ""}`);
      if (data.fatal) this.fail(`Playback failed: ${data.details}`, data.details);
      else this.emit("error", { code: data.details, fatal: false });
    });
    this.watch();
    if (this.key) {
      const parsed = new Promise((resolve) => hls.once(E.MANIFEST_PARSED, resolve));
      void Promise.all([parsed, this.key.catch(() => null)]).then(() =>
        hls.startLoad(startPosition),
      );
    }
    hls.loadSource(grant.cdns[0].hls_url);
    hls.attachMedia(this.video);
    this.autoplay();
  }

  // DASH: the MPD from the first CDN with the signed cookies; a protected asset's segments
  // are CENC, and the browser's ClearKey CDM gets its key from the API's licence route
  private async playDash(grant: api.PlaybackGrant): Promise<void> {
    const manifest = grant.cdns[0].dash_url;
    if (!manifest) {
      this.fail("This title has no DASH manifest.", "no_dash");
      return;
    }
    const dashjs = await import("dashjs");
    const player = dashjs.MediaPlayer().create();
    this.state.dash = player;
    player.updateSettings({ streaming: { buffer: { bufferTimeAtTopQuality: 20 } } });
    player.setXHRWithCredentialsForType(undefined as unknown as string, true); // cookies on every request
    if (grant.licence_uri) {
      player.setProtectionData({
        "org.w3.clearkey": {
          serverURL: grant.licence_uri,
          httpRequestHeaders: api.authHeaders(this.options.profileId),
        },
      });
    }
    const E = dashjs.MediaPlayer.events;
    player.on(E.ERROR, (event) => {
      const error = (event as { error?: { code?: number; message?: string } }).error ?? {};
      this.state.errors.push(`dash:${error.code ?? ""}:${error.message ?? ""}`);
      this.fail(`Playback failed: ${error.message ?? error.code}`, `dash.${error.code ?? "error"}`);
    });
    player.on(E.STREAM_INITIALIZED, () => {
      this.levels = player
        .getRepresentationsByType("video")
        .map((r) => ({ height: r.height, bitrate: r.bandwidth }));
      this.video.textTracks.addEventListener("addtrack", () => this.dashSubtitles());
      this.dashSubtitles();
    });
    player.on(E.QUALITY_CHANGE_RENDERED, (event) => {
      if (event.mediaType === "video") {
        const shown = event.newRepresentation;
        this.switched(shown.height, shown.bandwidth);
      }
    });
    this.watch();
    player.initialize(this.video, manifest, true, this.startPosition(grant));
  }

  private dashSubtitles(): void {
    this.subtitles = this.textTracks().map((t, index) => ({
      index,
      language: t.language,
      label: t.label || t.language || `Track ${index + 1}`,
    }));
    this.onTracks();
  }
}
