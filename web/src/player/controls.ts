// The player's controls around the <video>: play/pause, seek bar with scrub previews from the
// thumbnail sprite sheets, quality and subtitles menus, mute, full screen, the "next episode"
// countdown and keyboard shortcuts. Used by the app's watch page and the standalone player.
import * as api from "../api";
import { el } from "../dom";
import { icon, type IconName } from "../icons";
import { Player, PlaybackRefused, type PlayOptions } from "./player";
import { Thumbnails } from "./thumbnails";

const UP_NEXT_BEFORE_END_S = 15;
const COUNTDOWN_S = 10;
const SKIP_S = 10;
const NUDGE_S = 5;

export interface Mounted {
  player: Player;
  destroy: () => void;
}

export interface MountOptions extends Omit<PlayOptions, "video" | "onStatus"> {
  /** The next episode starts (the countdown ran out, or "Play now"). */
  onNext?: (next: api.PlaybackGrant["next_episode"] & {}) => void;
  /** Escape, or the back button. */
  onBack?: () => void;
}

/** What plays: the title's name, and the episode's. */
async function nowPlaying(grant: api.PlaybackGrant): Promise<string> {
  const detail = await api.title(grant.title_id).catch(() => null);
  if (!detail) return "";
  const episode = detail.seasons.flatMap((s) => s.episodes).find((e) => e.id === grant.episode_id);
  return episode ? `${detail.name}: S${episode.season}:E${episode.number} ${episode.name}` : detail.name;
}

export function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return "0:00";
  const whole = Math.max(0, Math.floor(seconds));
  const [h, m, s] = [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60];
  const two = (n: number): string => String(n).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

function button(label: string, face: Node | string, className: string): HTMLButtonElement {
  return el("button", { type: "button", class: className, "aria-label": label, title: label }, face);
}

function setFace(target: HTMLButtonElement, label: string, face: IconName): void {
  target.replaceChildren(icon(face));
  target.setAttribute("aria-label", label);
  target.title = label;
}

export function mountPlayer(container: HTMLElement, options: MountOptions): Mounted {
  const video = el("video", { id: "video", playsinline: "", "aria-label": "Video player" });
  const status = el("output", { id: "status", role: "status", "aria-live": "polite" }, "starting");
  const errorBox = el("p", { id: "error", class: "problem", role: "alert", hidden: "" });
  const heading = el("h1", { class: "now-playing" }, "Loading…");
  const back = button("Back", icon("back"), "back");
  const play = button("Play", icon("play"), "play");
  const rewind = button(`Back ${SKIP_S} seconds`, "↺", "rewind");
  const forward = button(`Forward ${SKIP_S} seconds`, "↻", "forward");
  const seek = el("input", {
    id: "seek", type: "range", min: "0", max: "0", step: "1", value: "0", "aria-label": "Seek",
  }); // prettier-ignore
  const time = el("span", { class: "time", "aria-hidden": "true" }, "0:00 / 0:00");
  const mute = button("Mute", icon("volume"), "mute");
  const quality = el("select", { id: "quality" }, el("option", { value: "-1" }, "Auto"));
  const subtitles = el("select", { id: "subtitles" }, el("option", { value: "-1" }, "Off"));
  const fullscreen = button("Full screen", icon("fullscreen"), "fullscreen");
  const frame = el("div", { class: "frame" });
  const previewTime = el("span", {});
  const preview = el("div", { class: "preview", hidden: "", "aria-hidden": "true" }, frame, previewTime);
  const countdown = el("b", {}, String(COUNTDOWN_S));
  const playNext = el("button", { type: "button", class: "primary" }, "Play now");
  const cancelNext = el("button", { type: "button" }, "Cancel");
  const upNextName = el("span", {});
  const upNext = el(
    "div",
    { class: "up-next", role: "region", "aria-label": "Next episode", hidden: "" },
    el("p", {}, "Next episode in ", countdown, " s: ", upNextName),
    playNext,
    cancelNext,
  );
  const bar = el(
    "div",
    { class: "controls" },
    play, rewind, forward,
    el("div", { class: "seek" }, seek, preview),
    time, mute,
    el("label", { for: "quality" }, "Quality"), quality,
    el("label", { for: "subtitles" }, "Subtitles"), subtitles,
    fullscreen, status,
  ); // prettier-ignore
  const root = el(
    "div",
    { class: "player", "data-state": "starting" },
    el("div", { class: "top" }, ...(options.onBack ? [back] : []), heading),
    video,
    upNext,
    errorBox,
    bar,
  );
  container.replaceChildren(root);

  const player = new Player({ ...options, video, onStatus: (text) => (status.value = text) });
  const listening = new AbortController();
  const signal = listening.signal;
  const on = <K extends keyof HTMLElementEventMap>(
    target: HTMLElement | Document,
    type: K,
    handler: (event: HTMLElementEventMap[K]) => void,
  ): void => target.addEventListener(type, handler as EventListener, { signal });

  const showError = (message: string): void => {
    errorBox.hidden = false;
    errorBox.textContent = message;
    status.value = "error";
    root.dataset.state = "error";
  };
  player.onFatal = showError;

  // --- menus: filled when the player knows its levels and tracks ---
  player.onTracks = () => {
    if (quality.options.length === 1 && player.levels.length) {
      player.levels.forEach((level, index) => {
        const label = `${level.height}p (${Math.round(level.bitrate / 1000)} kb/s)`;
        quality.append(el("option", { value: String(index) }, label));
      });
    }
    const wanted = player.subtitles.length + 1;
    if (subtitles.options.length !== wanted) {
      subtitles.replaceChildren(el("option", { value: "-1" }, "Off"));
      for (const track of player.subtitles) {
        subtitles.append(el("option", { value: String(track.index), lang: track.language }, track.label));
      }
    }
    subtitles.disabled = player.subtitles.length === 0;
  };
  on(quality, "change", () => player.chooseLevel(Number(quality.value)));
  on(subtitles, "change", () => player.chooseSubtitle(Number(subtitles.value)));
  let lastSubtitle = 0;
  const toggleSubtitles = (): void => {
    if (!player.subtitles.length) return;
    const now = player.subtitle;
    if (now >= 0) lastSubtitle = now;
    const next = now >= 0 ? -1 : lastSubtitle;
    player.chooseSubtitle(next);
    subtitles.value = String(next);
  };

  // --- transport ---
  const togglePlay = (): void => void (video.paused ? video.play().catch(() => {}) : video.pause());
  const seekBy = (delta: number): void => {
    video.currentTime = Math.max(0, Math.min(video.duration || 0, video.currentTime + delta));
  };
  const toggleFullscreen = (): void =>
    void (document.fullscreenElement ? document.exitFullscreen() : root.requestFullscreen()).catch(() => {});
  const showTime = (): void => {
    if (!seeking) seek.value = String(Math.floor(video.currentTime));
    time.textContent = `${clock(video.currentTime)} / ${clock(video.duration)}`;
    seek.setAttribute("aria-valuetext", `${clock(video.currentTime)} of ${clock(video.duration)}`);
  };
  let seeking = false;
  on(play, "click", togglePlay);
  on(video, "click", togglePlay);
  on(rewind, "click", () => seekBy(-SKIP_S));
  on(forward, "click", () => seekBy(SKIP_S));
  on(mute, "click", () => (video.muted = !video.muted));
  on(fullscreen, "click", toggleFullscreen);
  on(back, "click", () => options.onBack?.());
  on(video, "play", () => {
    setFace(play, "Pause", "pause");
    root.dataset.state = "playing";
  });
  on(video, "pause", () => {
    setFace(play, "Play", "play");
    root.dataset.state = "paused";
  });
  on(video, "volumechange", () => setFace(mute, video.muted ? "Unmute" : "Mute", video.muted ? "muted" : "volume"));
  on(video, "durationchange", () => {
    seek.max = String(Math.floor(video.duration || 0));
    showTime();
  });
  on(video, "timeupdate", () => {
    showTime();
    watchForNext();
  });
  on(seek, "input", () => {
    seeking = true;
    showPreview(Number(seek.value), Number(seek.value) / Math.max(1, Number(seek.max)));
  });
  on(seek, "change", () => {
    seeking = false;
    video.currentTime = Number(seek.value);
    preview.hidden = true;
  });

  // --- scrub previews: the sprite-sheet frame under the pointer (or the dragged thumb) ---
  let thumbnails: Thumbnails | null = null;
  const showPreview = (at: number, fraction: number): void => {
    previewTime.textContent = clock(at);
    const cue = thumbnails?.at(at);
    frame.hidden = !cue;
    if (cue) {
      frame.style.width = `${cue.w}px`;
      frame.style.height = `${cue.h}px`;
      frame.style.backgroundImage = `url("${cue.url}")`;
      frame.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
      frame.dataset.sheet = cue.url;
      frame.dataset.xywh = `${cue.x},${cue.y},${cue.w},${cue.h}`;
    }
    preview.style.left = `${Math.min(100, Math.max(0, fraction * 100))}%`;
    preview.hidden = false;
  };
  on(seek, "pointermove", (event) => {
    const box = seek.getBoundingClientRect();
    const fraction = (event.clientX - box.left) / box.width;
    showPreview(fraction * (video.duration || 0), fraction);
  });
  on(seek, "pointerleave", () => !seeking && (preview.hidden = true));

  // --- up next: a countdown near the end; at zero (or at the end) the next episode plays ---
  let counting = 0;
  let dismissed = false;
  const next = (): api.PlaybackGrant["next_episode"] => player.grant?.next_episode ?? null;
  const startNext = (): void => {
    const episode = next();
    window.clearInterval(counting);
    if (episode && options.onNext) options.onNext(episode);
  };
  const watchForNext = (): void => {
    const episode = next();
    if (!episode || dismissed || counting || !options.onNext || !video.duration) return;
    if (video.duration - video.currentTime > UP_NEXT_BEFORE_END_S) return;
    let left = COUNTDOWN_S;
    upNextName.textContent = `S${episode.season}:E${episode.number} “${episode.name}”`;
    countdown.textContent = String(left);
    upNext.hidden = false;
    counting = window.setInterval(() => {
      left -= 1;
      countdown.textContent = String(Math.max(0, left));
      if (left <= 0) startNext();
    }, 1000);
  };
  on(playNext, "click", startNext);
  on(cancelNext, "click", () => {
    dismissed = true;
    window.clearInterval(counting);
    upNext.hidden = true;
  });
  on(video, "ended", () => {
    if (!dismissed && next()) startNext();
  });

  // --- keyboard: as the big players do ---
  on(document, "keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target as HTMLElement;
    const typing = target.matches("input:not([type=range]), select, textarea");
    const onControl = target.matches("button, input[type=range]");
    if (typing) return;
    const actions: Record<string, () => void> = {
      " ": togglePlay, k: togglePlay,
      j: () => seekBy(-SKIP_S), l: () => seekBy(SKIP_S),
      ArrowLeft: () => seekBy(-NUDGE_S), ArrowRight: () => seekBy(NUDGE_S),
      ArrowUp: () => (video.volume = Math.min(1, video.volume + 0.1)),
      ArrowDown: () => (video.volume = Math.max(0, video.volume - 0.1)),
      f: toggleFullscreen, m: () => (video.muted = !video.muted), c: toggleSubtitles,
      Escape: () => (document.fullscreenElement ? undefined : options.onBack?.()),
    }; // prettier-ignore
    const action = actions[event.key];
    // a focused button takes Space as a click, a focused seek bar takes the arrows
    if (!action || (onControl && (event.key === " " || event.key.startsWith("Arrow")))) return;
    event.preventDefault();
    action();
  });

  void player
    .start()
    .then(() => {
      const grant = player.grant!;
      void nowPlaying(grant).then((text) => (heading.textContent = text || "Now playing"));
      Thumbnails.load(player.cdnUrl(grant.thumbnails_vtt_path)).then(
        (loaded) => {
          thumbnails = loaded;
          player.state.thumbnails = loaded.size;
        },
        (error) => player.state.errors.push(`thumbnails:${error}`),
      );
    })
    .catch((error) => showError(error instanceof PlaybackRefused ? error.message : String(error)));
  root.focus({ preventScroll: true });

  return {
    player,
    destroy: () => {
      window.clearInterval(counting);
      listening.abort();
      player.destroy();
    },
  };
}
