// Scrub previews: the asset's WebVTT track of sprite-sheet cues (`sprite_000.jpg#xywh=x,y,w,h`),
// fetched from the CDN with the signed cookies.

export interface Preview {
  url: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

interface Cue extends Preview {
  start: number;
  end: number;
}

function seconds(stamp: string): number {
  const parts = stamp.trim().split(":").map(Number);
  return parts.reduce((total, part) => total * 60 + part, 0);
}

export function parseThumbnails(vtt: string, base: string): Cue[] {
  const cues: Cue[] = [];
  const blocks = vtt.replace(/\r/g, "").split(/\n\n+/);
  for (const block of blocks) {
    const lines = block.split("\n");
    const timing = lines.findIndex((line) => line.includes("-->"));
    if (timing < 0 || !lines[timing + 1]) continue;
    const [from, to] = lines[timing].split("-->");
    const [file, fragment = ""] = lines[timing + 1].trim().split("#xywh=");
    const [x, y, w, h] = fragment.split(",").map(Number);
    if ([x, y, w, h].some((n) => Number.isNaN(n))) continue;
    cues.push({ start: seconds(from), end: seconds(to), url: new URL(file, base).href, x, y, w, h });
  }
  return cues;
}

export class Thumbnails {
  private constructor(private readonly cues: Cue[]) {}

  static async load(url: string): Promise<Thumbnails> {
    const response = await fetch(url, { credentials: "include" });
    if (!response.ok) throw new Error(`thumbnails ${response.status}`);
    return new Thumbnails(parseThumbnails(await response.text(), url));
  }

  get size(): number {
    return this.cues.length;
  }

  at(time: number): Preview | null {
    let low = 0;
    let high = this.cues.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const cue = this.cues[middle];
      if (time < cue.start) high = middle - 1;
      else if (time >= cue.end) low = middle + 1;
      else return cue;
    }
    return this.cues.length ? this.cues[Math.max(0, Math.min(high, this.cues.length - 1))] : null;
  }
}
