// Hash routes (#/home, #/title/<id>, #/watch/<id>, #/admin/...), so any static host serves
// the app: S3 behind CloudFront on AWS, `flixstack up` locally.

export interface Route {
  /** The path's parts: "#/title/abc" is ["title", "abc"]. */
  parts: string[];
  query: URLSearchParams;
}

export function currentRoute(): Route {
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

export function go(hash: string): void {
  if (location.hash !== hash) location.hash = hash;
}

/** The main element views draw into; what a view leaves behind is torn down on the next. */
export class View {
  private teardown: (() => void) | null = null;

  constructor(readonly element: HTMLElement) {}

  show(...children: Node[]): void {
    this.element.replaceChildren(...children);
    this.element.focus({ preventScroll: true });
  }

  /** A view that holds resources (the player) hands back how to let go of them. */
  hold(teardown: () => void): void {
    this.teardown = teardown;
  }

  leave(): void {
    this.teardown?.();
    this.teardown = null;
  }
}
