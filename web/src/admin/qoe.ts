// The QoE dashboard: GET /admin/qoe/report, drawn as SVG (the startup-time distribution, the
// rebuffer ratio and startup p95 per minute) with tiles and breakdown tables, refreshed every
// 10 s while the page is open.
import type { QoeReport } from "../api";
import { el, message } from "../dom";
import type { View } from "../router";
import * as admin from "./api";
import { Scope } from "./ui";

type Figures = QoeReport["overall"];
type Group = QoeReport["by_cdn"][number];
type Bar = QoeReport["startup_histogram"][number];
interface Point {
  label: string;
  v: number | null;
}

const REFRESH_MS = 10_000;
const SVG = "http://www.w3.org/2000/svg";
const W = 480;
const H = 180;
const PAD = { left: 48, right: 8, top: 8, bottom: 28 };
const WINDOWS: [string, string][] = [["15", "15 min"], ["60", "1 hour"], ["360", "6 hours"], ["1440", "24 hours"]];

const fmt = {
  ms: (v: number | null): string => (v == null ? "–" : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`),
  pct: (v: number | null): string => (v == null ? "–" : `${(100 * v).toFixed(v && v < 0.001 ? 3 : 2)} %`),
  bps: (v: number | null): string => (v == null ? "–" : `${(v / 1e6).toFixed(2)} Mb/s`),
  score: (v: number | null): string => (v == null ? "–" : v.toFixed(1)),
  n: (v: number): string => String(v),
};

function svg(name: string, attrs: Record<string, string | number>, parent?: Element): SVGElement {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  parent?.appendChild(node);
  return node;
}

function text(parent: Element, x: number, y: number, words: string, anchor = "middle"): void {
  svg("text", { x, y, "text-anchor": anchor }, parent).textContent = words;
}

function tip(parent: SVGElement, words: string): void {
  svg("title", {}, parent).textContent = words;
}

function frame(target: HTMLElement, yMax: number, yLabel: (v: number) => string, label: string) {
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", "aria-label": label });
  target.replaceChildren(root);
  const y = (v: number): number => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / (yMax || 1));
  svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(0), y2: y(0), class: "axis" }, root);
  for (const f of [0.5, 1]) {
    svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(yMax * f), y2: y(yMax * f), class: "grid" }, root);
    text(root, PAD.left - 4, y(yMax * f) + 4, yLabel(yMax * f), "end");
  }
  return { root, y };
}

function empty(target: HTMLElement): void {
  target.replaceChildren(el("p", { class: "empty" }, "no plays in this window yet"));
}

function bars(target: HTMLElement, items: Bar[], label: (b: Bar) => string, color: string, caption: string): void {
  if (!items.length || items.every((i) => !i.plays)) return empty(target);
  const top = Math.max(...items.map((i) => i.plays));
  const max = top < 2 ? 2 : Math.ceil((top * 1.1) / 2) * 2; // whole numbers at half and top
  const yLabel = (v: number): string => String(Math.round(v));
  const { root, y } = frame(target, max, yLabel, caption);
  const step = (W - PAD.left - PAD.right) / items.length;
  items.forEach((item, i) => {
    const x = PAD.left + i * step;
    const v = item.plays || 0;
    const bar = svg("rect", { x: x + step * 0.1, width: step * 0.8, y: y(v), height: y(0) - y(v), fill: color }, root);
    tip(bar, `${label(item)}: ${yLabel(v)}`);
    text(root, x + step / 2, H - PAD.bottom + 14, label(item));
  });
}

function line(target: HTMLElement, points: Point[], yLabel: (v: number) => string, color: string, floor: number, caption: string): void {
  const known = points.filter((p): p is { label: string; v: number } => p.v != null);
  if (!known.length) return empty(target);
  const max = Math.max(...known.map((p) => p.v), floor) * 1.1;
  const { root, y } = frame(target, max, yLabel, caption);
  const span = Math.max(points.length - 1, 1);
  const x = (i: number): number => PAD.left + ((W - PAD.left - PAD.right) * i) / span;
  const path = points.flatMap((p, i) => (p.v == null ? [] : [`${x(i)},${y(p.v)}`])).join(" ");
  svg("polyline", { points: path, fill: "none", stroke: color, "stroke-width": 2 }, root);
  points.forEach((p, i) => {
    if (p.v == null) return;
    tip(svg("circle", { cx: x(i), cy: y(p.v), r: 3, fill: color }, root), `${p.label}: ${yLabel(p.v)}`);
  });
  text(root, PAD.left, H - 6, points[0].label.slice(11), "start");
  text(root, W - PAD.right, H - 6, points[points.length - 1].label.slice(11), "end");
}

function table(target: HTMLElement, groups: Group[], first: string): void {
  if (!groups.length) return empty(target);
  const head = [first, "plays", "startup p50", "startup p95", "rebuffer", "bitrate", "errors", "smoothness"];
  target.replaceChildren(
    el(
      "table",
      {},
      el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col" }, h)))),
      el(
        "tbody",
        {},
        ...groups.map((g) =>
          el(
            "tr",
            {},
            el("th", { scope: "row" }, g.label || g.name),
            ...[
              fmt.n(g.plays), fmt.ms(g.startup_p50_ms), fmt.ms(g.startup_p95_ms), fmt.pct(g.rebuffer_ratio),
              fmt.bps(g.average_bitrate_bps), fmt.pct(g.error_rate), fmt.score(g.smoothness_score),
            ].map((cell) => el("td", {}, cell)),
          ),
        ),
      ),
    ),
  );
}

function tiles(target: HTMLElement, overall: Figures): void {
  const shown: [string, string][] = [
    ["plays", fmt.n(overall.plays)],
    ["startup p50", fmt.ms(overall.startup_p50_ms)],
    ["startup p95", fmt.ms(overall.startup_p95_ms)],
    ["rebuffer ratio", fmt.pct(overall.rebuffer_ratio)],
    ["average bitrate", fmt.bps(overall.average_bitrate_bps)],
    ["error rate", fmt.pct(overall.error_rate)],
    ["startup score", fmt.score(overall.startup_score)],
    ["smoothness score", fmt.score(overall.smoothness_score)],
  ];
  target.replaceChildren(
    ...shown.map(([name, value]) => el("div", { class: "tile", "data-metric": name }, el("b", {}, value), el("span", {}, name))),
  );
}

function chart(id: string, caption: string): [HTMLElement, HTMLElement] {
  const holder = el("div", { id });
  return [el("figure", {}, el("figcaption", {}, caption), holder), holder];
}

export function qoeView(view: View, nav: HTMLElement): void {
  const scope = new Scope();
  view.hold(() => scope.close());
  const windowSelect = el(
    "select",
    { id: "window" },
    ...WINDOWS.map(([value, label]) => el("option", { value }, label)),
  );
  windowSelect.value = "60";
  const updated = el("output", { id: "updated", role: "status", "aria-live": "polite" }, "loading");
  const error = el("p", { id: "error", class: "problem", role: "alert" });
  error.hidden = true;
  const tileRow = el("section", { id: "tiles", "aria-label": "Overall" });
  const captions = {
    histogram: "Startup time distribution: plays up to each time (ms, s)",
    rebuffer: "Rebuffer ratio per minute",
    startup: "Startup p95 per minute (ms)",
  };
  const [histogramFigure, histogram] = chart("startup-histogram", captions.histogram);
  const [rebufferFigure, rebuffer] = chart("rebuffer-timeline", captions.rebuffer);
  const [startupFigure, startup] = chart("startup-timeline", captions.startup);
  const [cdnFigure, byCdn] = chart("by-cdn", "By CDN");
  const [territoryFigure, byTerritory] = chart("by-territory", "By territory");
  const [deviceFigure, byDevice] = chart("by-device", "By device");
  const [titleFigure, byTitle] = chart("by-title", "Top titles");

  function draw(report: QoeReport): void {
    tiles(tileRow, report.overall);
    bars(
      histogram,
      report.startup_histogram,
      (b) => (b.upper_ms == null ? "more" : b.upper_ms >= 1000 ? `${b.upper_ms / 1000}s` : String(b.upper_ms)),
      "#4f9dde",
      captions.histogram,
    );
    line(rebuffer, report.minutes.map((m) => ({ label: m.minute, v: m.rebuffer_ratio })), fmt.pct, "#e0823d", 0.01, captions.rebuffer);
    line(startup, report.minutes.map((m) => ({ label: m.minute, v: m.startup_p95_ms })), fmt.ms, "#4fbf7a", 1000, captions.startup);
    table(byCdn, report.by_cdn, "CDN");
    table(byTerritory, report.by_territory, "territory");
    table(byDevice, report.by_device, "device");
    table(byTitle, report.top_titles, "title");
  }

  let asked = 0;
  async function refresh(): Promise<void> {
    const mine = ++asked;
    try {
      const report = await admin.qoeReport(Number(windowSelect.value));
      if (!scope.active || mine !== asked) return; // gone, or a newer window was chosen
      draw(report);
      error.hidden = true;
      updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (exc) {
      if (!scope.active || mine !== asked) return;
      error.hidden = false;
      error.textContent = `Could not load the report: ${message(exc)}`;
    }
  }

  windowSelect.addEventListener("change", () => void refresh());
  view.show(
    nav,
    el(
      "div",
      { class: "qoe" },
      el(
        "header",
        { class: "qoe-head" },
        el("h1", {}, "Quality of experience"),
        el("label", { for: "window" }, "Window"),
        windowSelect,
        updated,
      ),
      error,
      tileRow,
      el(
        "section",
        { class: "charts", "aria-label": "Charts" },
        histogramFigure, rebufferFigure, startupFigure, cdnFigure, territoryFigure, deviceFigure, titleFigure,
      ),
    ),
  );
  void refresh();
  scope.every(REFRESH_MS, () => void refresh());
}
