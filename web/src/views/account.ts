// Signing in, and choosing (or adding) the profile that watches.
import * as api from "../api";
import { beginHostedSignIn, signInWithPassword } from "../auth";
import { settings } from "../config";
import { el, message, problem, status } from "../dom";
import { go, type View } from "../router";
import { chooseProfile } from "../session";

export function signInView(view: View): void {
  const auth = settings().auth;
  if (auth.kind === "hosted") {
    const start = el("button", { type: "button", class: "primary" }, "Sign in");
    start.addEventListener("click", () => void beginHostedSignIn(auth));
    view.show(el("div", { class: "signin" }, el("h1", {}, "Sign in"), start));
    start.focus();
    return;
  }
  // Locally: the emulator's users (Cognito's hosted UI is not there)
  const user = el("input", { id: "user", type: "email", autocomplete: "username", required: "" });
  const password = el("input", { id: "password", type: "password", autocomplete: "current-password", required: "" });
  const note = el("p", { class: "status", role: "status" });
  const form = el(
    "form",
    { class: "signin", "aria-labelledby": "signin-heading" },
    el("h1", { id: "signin-heading" }, "Sign in"),
    el("label", { for: "user" }, "Email"),
    user,
    el("label", { for: "password" }, "Password"),
    password,
    el("button", { type: "submit", class: "primary" }, "Sign in"),
    note,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    note.textContent = "Signing in…";
    try {
      await signInWithPassword(user.value.trim(), password.value);
      go("#/profiles");
    } catch (error) {
      note.textContent = message(error);
    }
  });
  view.show(form);
  user.focus();
}

export async function profilesView(view: View): Promise<void> {
  view.show(status("Loading profiles…"));
  try {
    const found = await api.profiles();
    const list = el(
      "ul",
      { class: "profiles" },
      ...found.map((profile) => {
        const button = el("button", { type: "button", class: `avatar ${profile.avatar}` }, profile.name);
        button.addEventListener("click", () => {
          chooseProfile(profile);
          go("#/home");
        });
        return el("li", {}, button);
      }),
    );
    const name = el("input", { id: "new-profile", required: "", maxlength: "50" });
    const add = el(
      "form",
      { class: "add-profile" },
      el("label", { for: "new-profile" }, "New profile"),
      name,
      el("button", { type: "submit", class: "primary" }, "Add"),
    );
    add.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api.createProfile(name.value.trim());
        await profilesView(view);
      } catch (error) {
        add.append(problem(error));
      }
    });
    view.show(el("h1", {}, "Who's watching?"), list, add);
    (list.querySelector("button") ?? name).focus();
  } catch (error) {
    view.show(problem(error));
  }
}
