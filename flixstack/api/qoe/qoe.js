// The QoE dashboard: GET /admin/qoe/report with an admin's access token
// (#token=... or localStorage["flixstack.access_token"]), drawn as SVG, refreshed every 10 s.
(function () {
  "use strict";
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get("token") || localStorage.getItem("flixstack.access_token");
  const windowSelect = document.getElementById("window");
  const SVG = "http://www.w3.org/2000/svg";
  const W = 480, H = 180, PAD = { left: 48, right: 8, top: 8, bottom: 28 };

  const fmt = {
    ms: (v) => (v == null ? "–" : v >= 1000 ? (v / 1000).toFixed(2) + " s" : Math.round(v) + " ms"),
    pct: (v) => (v == null ? "–" : (100 * v).toFixed(v && v < 0.001 ? 3 : 2) + " %"),
    bps: (v) => (v == null ? "–" : (v / 1e6).toFixed(2) + " Mb/s"),
    score: (v) => (v == null ? "–" : v.toFixed(1)),
    n: (v) => String(v),
  };

  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (parent) parent.appendChild(node);
    return node;
  }

  function text(parent, x, y, words, anchor) {
    const node = el("text", { x, y, "text-anchor": anchor || "middle" }, parent);
    node.textContent = words;
    return node;
  }

  function frame(target, yMax, yLabel) {
    target.replaceChildren();
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img" }, target);
    const y = (v) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / (yMax || 1));
    el("line", { x1: PAD.left, x2: W - PAD.right, y1: y(0), y2: y(0), stroke: "#555" }, svg);
    [0.5, 1].forEach((f) => {
      el("line", { x1: PAD.left, x2: W - PAD.right, y1: y(yMax * f), y2: y(yMax * f), stroke: "#2a2a2a" }, svg);
      text(svg, PAD.left - 4, y(yMax * f) + 4, yLabel(yMax * f), "end");
    });
    return { svg, y };
  }

  function empty(target) {
    target.replaceChildren();
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = "no plays in this window yet";
    target.appendChild(p);
  }

  function bars(target, items, label, value, yLabel, color) {
    if (!items.length || items.every((i) => !value(i))) return empty(target);
    const top = Math.max(...items.map(value));
    const max = top < 2 ? 2 : Math.ceil(top * 1.1 / 2) * 2; // whole numbers at half and top
    const { svg, y } = frame(target, max, yLabel);
    const step = (W - PAD.left - PAD.right) / items.length;
    items.forEach((item, i) => {
      const x = PAD.left + i * step;
      const v = value(item) || 0;
      const bar = el("rect", { x: x + step * 0.1, width: step * 0.8, y: y(v), height: y(0) - y(v), fill: color }, svg);
      el("title", {}, bar).textContent = `${label(item)}: ${yLabel(v)}`;
      text(svg, x + step / 2, H - PAD.bottom + 14, label(item));
    });
  }

  function line(target, points, yLabel, color, floor) {
    const known = points.filter((p) => p.v != null);
    if (!known.length) return empty(target);
    const max = Math.max(...known.map((p) => p.v), floor) * 1.1;
    const { svg, y } = frame(target, max, yLabel);
    const span = Math.max(points.length - 1, 1);
    const x = (i) => PAD.left + ((W - PAD.left - PAD.right) * i) / span;
    const path = points
      .map((p, i) => (p.v == null ? null : `${x(i)},${y(p.v)}`))
      .filter(Boolean)
      .join(" ");
    el("polyline", { points: path, fill: "none", stroke: color, "stroke-width": 2 }, svg);
    points.forEach((p, i) => {
      if (p.v == null) return;
      el("title", {}, el("circle", { cx: x(i), cy: y(p.v), r: 3, fill: color }, svg)).textContent =
        `${p.label}: ${yLabel(p.v)}`;
    });
    text(svg, PAD.left, H - 6, points[0].label.slice(11), "start");
    text(svg, W - PAD.right, H - 6, points[points.length - 1].label.slice(11), "end");
  }

  function table(target, groups) {
    target.replaceChildren();
    if (!groups.length) return empty(target);
    const t = document.createElement("table");
    const head = ["", "plays", "startup p50", "startup p95", "rebuffer", "bitrate", "errors", "smoothness"];
    t.innerHTML = "<tr>" + head.map((h) => `<th>${h}</th>`).join("") + "</tr>";
    groups.forEach((g) => {
      const row = document.createElement("tr");
      [g.label || g.name, fmt.n(g.plays), fmt.ms(g.startup_p50_ms), fmt.ms(g.startup_p95_ms), fmt.pct(g.rebuffer_ratio),
        fmt.bps(g.average_bitrate_bps), fmt.pct(g.error_rate), fmt.score(g.smoothness_score)].forEach((cell) => {
        const td = document.createElement("td");
        td.textContent = cell;
        row.appendChild(td);
      });
      t.appendChild(row);
    });
    target.appendChild(t);
  }

  function tiles(overall) {
    const shown = [
      ["plays", fmt.n(overall.plays)],
      ["startup p50", fmt.ms(overall.startup_p50_ms)],
      ["startup p95", fmt.ms(overall.startup_p95_ms)],
      ["rebuffer ratio", fmt.pct(overall.rebuffer_ratio)],
      ["average bitrate", fmt.bps(overall.average_bitrate_bps)],
      ["error rate", fmt.pct(overall.error_rate)],
      ["startup score", fmt.score(overall.startup_score)],
      ["smoothness score", fmt.score(overall.smoothness_score)],
    ];
    const target = document.getElementById("tiles");
    target.replaceChildren();
    shown.forEach(([name, value]) => {
      const tile = document.createElement("div");
      tile.className = "tile";
      tile.dataset.metric = name;
      const b = document.createElement("b");
      b.textContent = value;
      const span = document.createElement("span");
      span.textContent = name;
      tile.append(b, span);
      target.appendChild(tile);
    });
  }

  function draw(report) {
    tiles(report.overall);
    bars(
      document.getElementById("startup-histogram"),
      report.startup_histogram,
      (b) => (b.upper_ms == null ? "more" : b.upper_ms >= 1000 ? b.upper_ms / 1000 + "s" : String(b.upper_ms)),
      (b) => b.plays,
      (v) => String(Math.round(v)),
      "#4f9dde"
    );
    const minutes = report.minutes.map((m) => ({ label: m.minute, v: m.rebuffer_ratio }));
    line(document.getElementById("rebuffer-timeline"), minutes, fmt.pct, "#e0823d", 0.01);
    const startups = report.minutes.map((m) => ({ label: m.minute, v: m.startup_p95_ms }));
    line(document.getElementById("startup-timeline"), startups, fmt.ms, "#4fbf7a", 1000);
    table(document.getElementById("by-cdn"), report.by_cdn);
    table(document.getElementById("by-territory"), report.by_territory);
    table(document.getElementById("by-title"), report.top_titles);
  }

  async function refresh() {
    const error = document.getElementById("error");
    if (!token) {
      error.hidden = false;
      error.textContent = "Open this page as /admin/qoe#token=<an admin's access token>.";
      return;
    }
    try {
      const response = await fetch(`/admin/qoe/report?minutes=${windowSelect.value}`, {
        headers: { Authorization: "Bearer " + token },
      });
      const body = await response.json();
      if (!response.ok) throw new Error(`${response.status} ${body.reason || ""}: ${body.detail || ""}`);
      draw(body);
      error.hidden = true;
      document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
    } catch (exc) {
      error.hidden = false;
      error.textContent = "Could not load the report: " + exc.message;
    }
  }

  windowSelect.addEventListener("change", refresh);
  refresh();
  setInterval(refresh, 10000);
})();
