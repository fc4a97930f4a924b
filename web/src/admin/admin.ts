// The admin screens, under #/admin: titles by lifecycle state (and a new one), a title's
// editor (metadata, licences, seasons, lifecycle, uploads, jobs), and the QoE dashboard.
import "./admin.css";
import { el, status } from "../dom";
import type { View } from "../router";
import { isAdmin } from "../session";
import { editorView } from "./editor";
import { qoeView } from "./qoe";
import { titlesView } from "./titles";

function adminNav(section: "titles" | "qoe"): HTMLElement {
  const link = (href: string, text: string, current: boolean): HTMLElement =>
    el("a", { href, ...(current ? { "aria-current": "page" } : {}) }, text);
  return el(
    "nav",
    { class: "admin-nav", "aria-label": "Admin" },
    el("span", { class: "admin-mark" }, "Admin"),
    link("#/admin/titles", "Titles", section === "titles"),
    link("#/admin/qoe", "Quality of experience", section === "qoe"),
  );
}

export async function adminView(view: View, parts: string[], query: URLSearchParams): Promise<void> {
  if (!isAdmin()) {
    view.show(el("h1", {}, "Admin"), status("This part is for admins: sign in with an admin account."));
    return;
  }
  const [section = "titles", titleId] = parts;
  if (section === "qoe") return qoeView(view, adminNav("qoe"));
  if (section === "titles" && titleId) return editorView(view, adminNav("titles"), titleId);
  return titlesView(view, adminNav("titles"), query);
}
