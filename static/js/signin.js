// The sign-in screen. Development servers mint a token for any name through
// POST /api/dev/token; against any other server, a platform-issued JWT goes in
// the developer options.

import { api, explain } from "./api.js";
import { $ } from "./dom.js";

function decodeClaims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(
      Array.from(atob(part), (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join(""),
    );
    return JSON.parse(json);
  } catch {
    return null;
  }
}

function slug(name) {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
}

/** Wires the forms; `signIn(token, me)` checks the token and shows the app (throws on refusal). */
export function setUpSignIn(signIn) {
  const error = $("#signin-error");

  $("#signin-name").addEventListener("input", (ev) => {
    const id = $("#signin-id");
    if (!id.dataset.touched) id.value = slug(ev.target.value);
  });
  $("#signin-id").addEventListener("input", (ev) => (ev.target.dataset.touched = "1"));

  $("#demo-signin").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    const name = $("#signin-name").value.trim();
    const userId = $("#signin-id").value.trim() || slug(name);
    const role = new FormData(ev.target).get("role");
    if (!name || !userId) {
      error.textContent = "Pick a display name (the user id follows from it).";
      $("#signin-name").focus();
      return;
    }
    try {
      const res = await api("POST", "/api/dev/token", { user_id: userId, role, name });
      await signIn(res.token, { id: res.user.id, role: res.user.role, name: res.user.name || name });
    } catch (err) {
      if (err.status === 404) {
        error.textContent = "This server signs people in through its platform. Paste a token under Developer options.";
        document.querySelector("details.developer").open = true;
      } else {
        error.textContent = explain(err);
      }
    }
  });

  $("#token-signin").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    const token = $("#signin-token").value.trim().replace(/^Bearer\s+/i, "");
    const claims = decodeClaims(token);
    if (!claims) {
      error.textContent = "That does not look like a JWT (three base64url parts separated by dots).";
      return;
    }
    try {
      await signIn(token, { id: String(claims.id ?? claims.sub ?? ""), role: claims.role, name: claims.name });
    } catch (err) {
      error.textContent = explain(err);
    }
  });
}
