// The API's minimal player: /player?title=<title or episode id>&profile=<profile id>.
// The access token comes from localStorage["flixstack.access_token"] (or #token=...).
// It asks POST /playback for a grant (ranked CDNs, signed cookies, key URI, resume point),
// plays HLS with hls.js through the first CDN, fails over to the next one when a request
// errors, offers a quality menu, and sends player events (POST /events: session start,
// first frame, heartbeats, stalls, bit rate switches, errors, the end), from which the
// event consumer keeps progress and QoE. With &format=dash it plays
// the DASH manifest with dash.js instead (CENC media through EME ClearKey, licensed by the
// API), from the first CDN.
"use strict";

(function () {
  const HEARTBEAT_MS = 10000;
  const FLUSH_MS = 5000;
  const EVENT_BATCH = 50;
  const START_ESTIMATE_BPS = 1000000;
  const START_MARGIN = 0.7; // hls.js's abrBandWidthUpFactor
  const params = new URLSearchParams(location.search);
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get("token") || localStorage.getItem("flixstack.access_token");
  const target = params.get("title");
  const profile = params.get("profile");
  const video = document.getElementById("video");
  const quality = document.getElementById("quality");
  const status = document.getElementById("status");
  const errorBox = document.getElementById("error");

  // What tests and curious people can read: window.flixstack
  const state = {
    grant: null, cdn: null, cdnIndex: 0, failovers: [], startedAt: performance.now(),
    firstFrameMs: null, stalls: 0, stallMs: 0, levelSwitches: [], heartbeats: 0, errors: [],
    key: null, events: [], eventsSent: 0,
  };
  window.flixstack = state;
  let keyBytes = null; // the prefetched key, once here

  function fail(message, code) {
    if (code !== undefined) {
      emit("error", { code, fatal: true, message: message.slice(0, 500) });
      end("error");
    }
    errorBox.hidden = false;
    errorBox.textContent = message;
    status.textContent = "error";
    state.errors.push(message);
  }

  // What the API asks of every call for a profile (grant, key, licence, heartbeats)
  function signedIn() {
    return { Authorization: "Bearer " + token, "X-Profile-Id": profile };
  }

  function api(path, init) {
    const headers = Object.assign(signedIn(), (init && init.headers) || {});
    return fetch(path, Object.assign({}, init, { headers, credentials: "same-origin" }));
  }

  // --- CDN failover: every request goes to the active CDN; an error moves to the next ---
  function origins(grant) {
    return grant.cdns.map((cdn) => new URL(cdn.hls_url).origin);
  }

  function onCdn(url, index) {
    const all = origins(state.grant);
    const from = all.find((origin) => url.startsWith(origin + "/"));
    return from === undefined ? url : all[index] + url.slice(from.length);
  }

  function failoverLoader(Base) {
    return class FailoverLoader {
      constructor(config) { this.config = config; this.inner = new Base(config); this.gone = false; }
      get stats() { return this.inner.stats; }
      get context() { return this.inner.context; }
      abort() { this.gone = true; this.inner.abort(); }
      destroy() { this.gone = true; this.inner.destroy(); }
      load(context, config, callbacks) {
        const original = context.url;
        if (state.key && original === state.grant.key_uri) {
          this.fromPrefetch(context, config, callbacks);
          return;
        }
        const attempt = () => {
          const index = state.cdnIndex;
          const onFailure = (kind) => (...args) => {
            const next = index + 1;
            const ours = origins(state.grant).some((origin) => original.startsWith(origin + "/"));
            if (ours && next < state.grant.cdns.length) {
              if (state.cdnIndex === index) {
                state.cdnIndex = next;
                state.cdn = state.grant.cdns[next].name;
                state.failovers.push({ from: state.grant.cdns[index].name, to: state.cdn,
                  url: context.url, kind, at: video.currentTime });
                status.textContent = "switched to " + state.cdn;
              }
              this.inner.destroy();
              this.inner = new Base(this.config);
              attempt();
              return;
            }
            callbacks[kind](...args);
          };
          context.url = onCdn(original, index);
          this.inner.load(context, config, Object.assign({}, callbacks, {
            onError: onFailure("onError"), onTimeout: onFailure("onTimeout"),
          }));
        };
        attempt();
      }
      // The key was fetched beside the playlists as soon as the grant came: hls.js asks
      // for it once per track and again on some level switches; all get the same bytes.
      // Answered synchronously once the bytes are here: hls.js keys its key loads by URI,
      // and a second load of the same URI while one is in flight (the audio and the video
      // track start together) makes the first fail ("decryptdata unset or changed") and
      // retry a second later.
      fromPrefetch(context, config, callbacks) {
        const stats = this.inner.stats;
        stats.loading.start = performance.now();
        const answer = (data) => {
          if (this.gone) return;
          stats.loading.first = stats.loading.end = performance.now();
          stats.loaded = stats.total = data.byteLength;
          callbacks.onSuccess({ url: context.url, data: data.slice(0) }, stats, context, null);
        };
        if (keyBytes) {
          answer(keyBytes);
          return;
        }
        state.key.then(answer, () => {
          state.key = null; // refused or failed: ask again the usual way, errors and all
          if (!this.gone) this.load(context, config, callbacks);
        });
      }
    };
  }

  // hls.js orders levels by bit rate: the index of the best rung the estimate affords
  // with hls.js's own up-switch margin, so that its ABR does not move off the start rung
  // while the first segment's key is loading (hls.js then drops that load and retries)
  function startLevel(renditions) {
    const rates = renditions.map((r) => r.bandwidth).sort((a, b) => a - b);
    const affordable = rates.filter((rate) => rate <= START_ESTIMATE_BPS * START_MARGIN);
    return Math.max(0, affordable.length - 1);
  }

  function prefetchKey(uri) {
    return api(uri)
      .then((response) => (response.ok
        ? response.arrayBuffer() : Promise.reject(new Error("key " + response.status))))
      .then((data) => { keyBytes = data; return data; });
  }

  // --- player events (POST /events): QoE, and progress through the event consumer ---
  // Queued and sent every few seconds in one batch; the first frame and the end at once.
  const sessionId = crypto.randomUUID();
  const sessionStartedAt = new Date();
  let pending = [];

  function emit(type, fields, now) {
    const grant = state.grant;
    if (!grant) return;
    pending.push(Object.assign({
      type, event_id: crypto.randomUUID(), session_id: sessionId, profile_id: profile,
      title_id: grant.title_id, episode_id: grant.episode_id, asset_version: grant.asset_version,
      cdn: state.cdn, territory: grant.territory, device: "web",
      client_ts: (now || new Date()).toISOString(),
    }, fields || {}));
    state.events.push(type);
    if (pending.length >= EVENT_BATCH) flush();
  }

  function flush() {
    if (!pending.length) return;
    const events = pending;
    pending = [];
    api("/events", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ events }),
      keepalive: true, // the last batch still goes out as the page closes
    }).then((response) => {
      if (response.status === 202) { state.eventsSent += events.length; return; }
      if (response.status >= 500) pending = events.concat(pending); // the stream was busy: again
      else state.errors.push("events:" + response.status);
    }, () => { pending = events.concat(pending); });
  }

  // the rendition playing now, in bits per second
  function bitrate() {
    if (state.hls && state.hls.currentLevel >= 0) return state.hls.levels[state.hls.currentLevel].bitrate;
    if (state.dash) {
      const playing = state.dash.getCurrentRepresentationForType("video");
      if (playing) return playing.bandwidth;
    }
    return 0;
  }

  function buffered() {
    const ranges = video.buffered;
    for (let i = 0; i < ranges.length; i += 1) {
      if (ranges.start(i) <= video.currentTime && video.currentTime <= ranges.end(i)) {
        return ranges.end(i) - video.currentTime;
      }
    }
    return 0;
  }

  function heartbeat() {
    if (!state.grant || !video.duration || video.currentTime === 0) return;
    state.heartbeats += 1;
    emit("heartbeat", {
      position_s: video.currentTime, duration_s: video.duration, bitrate_bps: bitrate(),
      buffer_s: buffered(),
    });
  }

  let ended = false;
  function end(reason) {
    if (ended || !state.grant) return;
    ended = true;
    heartbeat();
    emit("session_end", { position_s: video.currentTime, reason });
    flush();
  }

  // levels: [{height, bitrate}] in the player's own order; choose(index, -1 for Auto)
  function menu(levels, choose) {
    levels.forEach((level, index) => {
      const option = document.createElement("option");
      option.value = String(index);
      option.textContent = level.height + "p (" + Math.round(level.bitrate / 1000) + " kb/s)";
      quality.appendChild(option);
    });
    quality.addEventListener("change", () => choose(Number(quality.value)));
  }

  let lastBitrate = null;
  function switched(height, toBps) {
    state.levelSwitches.push({ height, at: video.currentTime });
    if (lastBitrate !== null && lastBitrate !== toBps) {
      emit("bitrate_switch", { position_s: video.currentTime, from_bps: lastBitrate, to_bps: toBps, height });
    }
    lastBitrate = toBps;
  }

  // Stalls, the first frame, heartbeats and the end: the same whichever library plays
  function watch() {
    emit("session_start", {}, sessionStartedAt);
    let stalledAt = null;
    video.addEventListener("waiting", () => {
      if (state.firstFrameMs !== null && stalledAt === null && !video.seeking) {
        state.stalls += 1;
        stalledAt = performance.now();
        emit("stall_start", { position_s: video.currentTime });
      }
    });
    video.addEventListener("playing", () => {
      if (stalledAt !== null) {
        const stalled = performance.now() - stalledAt;
        state.stallMs += stalled;
        stalledAt = null;
        emit("stall_end", { position_s: video.currentTime, stall_ms: stalled });
      }
      status.textContent = "playing from " + state.cdn;
    });
    const firstFrame = () => {
      if (state.firstFrameMs !== null) return;
      state.firstFrameMs = performance.now() - state.startedAt;
      emit("first_frame", { startup_ms: state.firstFrameMs });
      flush();
    };
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(firstFrame);
    else video.addEventListener("playing", firstFrame, { once: true });
    video.addEventListener("pause", () => { heartbeat(); flush(); });
    video.addEventListener("ended", () => end("ended"));
    window.addEventListener("pagehide", () => end("exit"));
    setInterval(heartbeat, HEARTBEAT_MS);
    setInterval(flush, FLUSH_MS);
  }

  function script(src) {
    return new Promise((resolve, reject) => {
      const tag = document.createElement("script");
      tag.src = src;
      tag.onload = resolve;
      tag.onerror = () => reject(new Error("could not load " + src));
      document.head.appendChild(tag);
    });
  }

  // DASH: the MPD from the first CDN with the signed cookies; a protected asset's segments
  // are CENC, and the browser's ClearKey CDM gets its key from the API's licence route
  async function playDash(grant) {
    if (!grant.cdns[0].dash_url) {
      fail("this title has no DASH manifest");
      return;
    }
    await script("/player/vendor/dash.all.min.js");
    const player = dashjs.MediaPlayer().create();
    state.dash = player;
    player.updateSettings({ streaming: { buffer: { bufferTimeAtTopQuality: 20 } } });
    player.setXHRWithCredentialsForType(undefined, true); // cookies on every request
    if (grant.licence_uri) {
      player.setProtectionData({ "org.w3.clearkey": {
        serverURL: grant.licence_uri,
        httpRequestHeaders: signedIn(),
      } });
    }
    player.on(dashjs.MediaPlayer.events.ERROR, (event) => {
      const error = event.error || {};
      state.errors.push("dash:" + (error.code || "") + ":" + (error.message || ""));
      fail("playback failed: " + (error.message || error.code), "dash." + (error.code || "error"));
    });
    player.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, () => {
      const levels = player.getRepresentationsByType("video").map((r) => ({
        height: r.height, bitrate: r.bandwidth }));
      menu(levels, (index) => {
        const auto = index < 0;
        player.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: auto } } } });
        if (!auto) player.setRepresentationForTypeByIndex("video", index, true);
      });
    });
    player.on(dashjs.MediaPlayer.events.QUALITY_CHANGE_RENDERED, (event) => {
      if (event.mediaType === "video") {
        switched(event.newRepresentation.height, event.newRepresentation.bandwidth);
      }
    });
    watch();
    player.initialize(video, grant.cdns[0].dash_url, true, grant.resume_position_s || 0);
  }

  async function start() {
    if (!token || !target || !profile) {
      fail("open /player?title=<id>&profile=<profile id> after signing in");
      return;
    }
    const response = await api("/playback/" + encodeURIComponent(target), { method: "POST" });
    const body = await response.json();
    if (!response.ok) {
      fail("playback refused: " + (body.reason || response.status) + " " + (body.detail || ""));
      return;
    }
    state.grant = body;
    state.cdn = body.cdns[0].name;
    if (params.get("format") === "dash") {
      await playDash(body);
      return;
    }
    state.key = body.key_uri ? prefetchKey(body.key_uri) : null;
    if (!window.Hls || !Hls.isSupported()) {
      fail("this browser cannot play HLS with Media Source Extensions");
      return;
    }
    const keyUri = body.key_uri;
    const startPosition = body.resume_position_s || -1;
    const hls = new Hls({
      // With a key, no playlist or segment loads until the prefetched key is here (it
      // usually is by the time the master playlist is parsed), so every key load hls.js
      // makes is answered at once (see fromPrefetch)
      autoStartLoad: !state.key,
      startPosition,
      // Start on the rung a 1 Mbit/s estimate affords (a small first segment: a fast
      // first frame on any network), then let ABR climb from what segments measure.
      // hls.js would otherwise start on the manifest's first rung, whatever its size; and
      // its own pick (startLevel -1) may change once the playlists have loaded, racing
      // the first segment's key load.
      startLevel: startLevel(body.renditions),
      abrEwmaDefaultEstimate: START_ESTIMATE_BPS,
      // Our segments are fMP4 (nothing to transmux) and decrypted with WebCrypto: a worker
      // only adds its start-up and copies to the first frame (measured: p50 -150 to -200 ms)
      enableWorker: false,
      // Buffer at most 30 s ahead (hls.js would otherwise fill 60 MB: a low-rate title
      // whole). Bytes past what a viewer watches are CDN egress paid for nothing, and a
      // bounded buffer keeps ABR and CDN failover responsive.
      maxBufferLength: 20,
      maxMaxBufferLength: 30,
      loader: failoverLoader(Hls.DefaultConfig.loader),
      xhrSetup(xhr, url) {
        if (keyUri && url === keyUri) {
          xhr.open("GET", url, true);
          Object.entries(signedIn()).forEach(([name, value]) => xhr.setRequestHeader(name, value));
        } else {
          xhr.withCredentials = true; // the signed cookies go to the CDN
        }
      },
    });
    state.hls = hls;
    hls.on(Hls.Events.MANIFEST_PARSED, () => menu(hls.levels, (index) => {
      hls.currentLevel = index;
    }));
    hls.on(Hls.Events.LEVEL_SWITCHED, (_event, data) => {
      switched(hls.levels[data.level].height, hls.levels[data.level].bitrate);
    });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      const code = data.response && data.response.code !== undefined ? ":" + data.response.code : "";
      state.errors.push(data.type + ":" + data.details + code + (data.fatal ? ":fatal" : ""));
      if (data.fatal) fail("playback failed: " + data.details, data.details);
      else emit("error", { code: data.details, fatal: false });
    });
    watch();
    if (state.key) {
      const parsed = new Promise((resolve) => hls.once(Hls.Events.MANIFEST_PARSED, resolve));
      Promise.all([parsed, state.key.catch(() => null)]).then(() => hls.startLoad(startPosition));
    }
    hls.loadSource(body.cdns[0].hls_url);
    hls.attachMedia(video);
    video.play().catch((error) => state.errors.push("autoplay:" + error.name));
  }

  start().catch((error) => fail(String(error)));
})();
