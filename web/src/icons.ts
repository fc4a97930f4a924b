// Small line icons as inline SVG (no icon font, no emoji: they look the same everywhere).
const SVG = "http://www.w3.org/2000/svg";

const SHAPES = {
  play: { fill: "M8 5v14l11-7z" },
  pause: { fill: "M6 5h4v14H6zM14 5h4v14h-4z" },
  volume: { fill: "M3 9v6h4l5 5V4L7 9z", stroke: "M15.5 8.5a5 5 0 0 1 0 7M18 6a8.5 8.5 0 0 1 0 12" },
  muted: { fill: "M3 9v6h4l5 5V4L7 9z", stroke: "M15 9l6 6M21 9l-6 6" },
  fullscreen: { stroke: "M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5" },
  back: { stroke: "M15 5l-7 7 7 7" },
  thumbUp: { stroke: "M7 11v9H4v-9zM7 11l4-7c1.3 0 2 .8 2 2v3h5a2 2 0 0 1 2 2.3l-1.3 6.5A2 2 0 0 1 16.7 20H7" },
  check: { stroke: "M5 12.5l4.5 4.5L19 7.5" },
  plus: { stroke: "M12 5v14M5 12h14" },
} as const;

export type IconName = keyof typeof SHAPES;

export function icon(name: IconName, flip = false): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", flip ? "icon flip" : "icon");
  const shape: { fill?: string; stroke?: string } = SHAPES[name];
  if (shape.fill) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", shape.fill);
    path.setAttribute("fill", "currentColor");
    svg.append(path);
  }
  if (shape.stroke) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", shape.stroke);
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2");
    path.setAttribute("stroke-linecap", "round");
    path.setAttribute("stroke-linejoin", "round");
    svg.append(path);
  }
  return svg;
}
