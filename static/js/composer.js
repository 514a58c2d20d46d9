// The message composer: one draft per conversation (kept for the browser
// session and restored when the conversation is reopened), locked with its
// reason while free chat is not open, Enter to send, Shift+Enter for a line.

import { $ } from "./dom.js";

/**
 * @param {object} hooks
 *   userId()          the signed-in user, whose drafts these are
 *   onSend(text)      a message to send in the attached conversation
 *   onTyping(bool)    whether the box holds text (for typing indicators)
 *   onDraft(id)       a conversation's draft changed
 */
export function createComposer(hooks) {
  const form = $("#composer");
  const input = $("#composer-input");
  const send = form.querySelector("button[type=submit]");
  const help = $("#composer-help");
  const lock = $("#composer-lock");
  const error = $("#composer-error");
  let drafts = new Map();
  let current = null;

  const storageKey = () => `parley.drafts.${hooks.userId()}`;

  function load() {
    try {
      drafts = new Map(Object.entries(JSON.parse(sessionStorage.getItem(storageKey()) || "{}")));
    } catch {
      drafts = new Map();
    }
  }

  function remember() {
    if (!current) return;
    const text = input.value;
    const before = drafts.get(current) || "";
    if (text.trim()) drafts.set(current, text);
    else drafts.delete(current);
    sessionStorage.setItem(storageKey(), JSON.stringify(Object.fromEntries(drafts)));
    if ((drafts.get(current) || "") !== before) hooks.onDraft?.(current);
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!current || !text || input.disabled) return;
    input.value = "";
    remember();
    hooks.onTyping(false);
    hooks.onSend(text);
  });

  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });

  input.addEventListener("input", () => {
    remember();
    hooks.onTyping(Boolean(input.value.trim()));
  });
  input.addEventListener("blur", () => hooks.onTyping(false));

  return {
    /** Loads the drafts of the user who just signed in. */
    signIn() {
      current = null;
      input.value = "";
      load();
    },
    /** Shows conversation `id`'s draft, after keeping the one on screen. */
    attach(id) {
      if (current === id) return;
      remember();
      current = id;
      input.value = drafts.get(id) || "";
      error.textContent = "";
    },
    detach() {
      remember();
      current = null;
      input.value = "";
    },
    draft: (id) => drafts.get(id) || "",
    /** Locks the composer with `reason.text` (what unlocks it), or unlocks it. */
    setLock(reason) {
      const locked = Boolean(reason);
      input.disabled = locked;
      send.disabled = locked;
      lock.hidden = !locked;
      lock.textContent = reason?.text || "";
      help.hidden = locked;
      input.placeholder = locked ? "Free chat is not open" : "Write a message";
      input.setAttribute("aria-describedby", `${locked ? "composer-lock" : "composer-help"} composer-error`);
      form.dataset.locked = String(locked);
    },
    /** Puts back a message whose send failed, unless something new was typed. */
    restore(id, text) {
      if (current !== id || input.value) return;
      input.value = text;
      remember();
    },
    showError(text) {
      error.textContent = text;
    },
    focus() {
      if (!input.disabled) input.focus();
    },
  };
}
