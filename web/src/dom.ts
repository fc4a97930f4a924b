// A few DOM helpers: the app builds its views from plain elements.

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function problem(error: unknown): HTMLElement {
  return el("p", { class: "problem", role: "alert" }, message(error));
}

export function status(text: string): HTMLElement {
  return el("p", { class: "status", role: "status" }, text);
}
