// The message composer: one draft per conversation (kept for the browser
// session and restored when the conversation is reopened), locked with its
// reason while free chat is not open, Enter to send, Shift+Enter for a line.
// Above the box, the message being answered (a reply) or changed (an edit),
// with a cancel; Escape cancels too.

import { $ } from "./dom.js";

/**
 * @param {object} hooks
 *   userId()          the signed-in user, whose drafts these are
 *   onSend(text, mode) a message to send in the attached conversation;
 *                     mode is null, {kind: "reply", message} or {kind: "edit", message}
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
  const bar = $("#composer-context");
  const barLabel = $("#composer-context-label");
  const barQuote = $("#composer-context-quote");
  const barCancel = $("#composer-context-cancel");
  let drafts = new Map();
  let current = null;
  /** The reply or edit under way, or null. */
  let mode = null;
  /** What the box held before an edit filled it, put back when the edit ends. */
  let stash = "";

  function setMode(next) {
    mode = next;
    bar.hidden = !mode;
    form.dataset.mode = mode?.kind || "";
    if (!mode) return;
    const m = mode.message;
    if (mode.kind === "reply") {
      barLabel.textContent = `Replying to ${mode.who}`;
      barQuote.textContent = m.message || (m.media_url ? "a link" : "");
      barCancel.setAttribute("aria-label", "Cancel reply");
    } else {
      barLabel.textContent = "Editing your message";
      barQuote.textContent = m.message;
      barCancel.setAttribute("aria-label", "Cancel editing");
    }
  }

  function endMode() {
    const was = mode;
    setMode(null);
    if (was?.kind === "edit") {
      input.value = stash;
      stash = "";
      remember();
    }
  }
  barCancel.addEventListener("click", () => {
    endMode();
    input.focus();
  });

  const storageKey = () => `parley.drafts.${hooks.userId()}`;

  function load() {
    try {
      drafts = new Map(Object.entries(JSON.parse(sessionStorage.getItem(storageKey()) || "{}")));
    } catch {
      drafts = new Map();
    }
  }

  function remember() {
    // The text of a message being edited is not a draft.
    if (!current || mode?.kind === "edit") return;
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
    const sending = mode;
    input.value = "";
    if (sending?.kind === "edit") {
      input.value = stash;
      stash = "";
    }
    setMode(null);
    remember();
    hooks.onTyping(false);
    hooks.onSend(text, sending);
  });

  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && mode) {
      ev.preventDefault();
      endMode();
      return;
    }
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });

  input.addEventListener("input", () => {
    remember();
    if (mode?.kind !== "edit") hooks.onTyping(Boolean(input.value.trim()));
  });
  input.addEventListener("blur", () => hooks.onTyping(false));

  return {
    /** Loads the drafts of the user who just signed in. */
    signIn() {
      current = null;
      setMode(null);
      input.value = "";
      load();
    },
    /** Shows conversation `id`'s draft, after keeping the one on screen. */
    attach(id) {
      if (current === id) return;
      endMode();
      remember();
      current = id;
      input.value = drafts.get(id) || "";
      error.textContent = "";
    },
    detach() {
      endMode();
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
    /** Puts back a message whose send failed (and its reply), unless something new was typed. */
    restore(id, text, sending) {
      if (current !== id || input.value) return;
      input.value = text;
      if (sending?.kind === "reply" && !mode) setMode(sending);
      remember();
    },
    /** Answers message `m` (from `who`): the quote shows above the box. */
    startReply(m, who) {
      if (mode?.kind === "edit") endMode();
      setMode({ kind: "reply", message: m, who });
      input.focus();
    },
    /** Changes own message `m`: its text (or `text`, after a refusal) goes in the box. */
    startEdit(m, text) {
      if (mode?.kind !== "edit") stash = input.value;
      setMode({ kind: "edit", message: m });
      input.value = text ?? m.message;
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    },
    /** The message a reply or edit is about was deleted or changed meanwhile. */
    messageChanged(m) {
      if (!mode || mode.message.id !== m.id) return;
      if (m.deleted_at) endMode();
      else setMode({ ...mode, message: { ...mode.message, ...m } });
    },
    showError(text) {
      error.textContent = text;
    },
    focus() {
      if (!input.disabled) input.focus();
    },
  };
}
