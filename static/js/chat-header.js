// The open conversation's header: who it is with and whether they are here,
// whose turn it is from the viewer's side, what it is about (the campaign or
// bid, or for a direct conversation the listing it is an inquiry about),
// whether the viewer muted it, the viewer's options (archive, mute) and the
// conversation's own actions (cancel, close) with a confirming second click.

import { explain } from "./api.js";
import { createSettingsMenu, mutedIcon } from "./conv-settings.js";
import { $, avatar, capital, fill, h, roleLabel, shortTime } from "./dom.js";
import { turn } from "./flow.js";
import { menu } from "./menu.js";

/** "Inquiry about Sea-view flat" (a link when the context has one), or null. */
export function inquiry(context) {
  if (!context) return null;
  const text = `Inquiry about ${context.title || `${context.type} ${context.id}`}`;
  let url = null;
  try {
    url = context.url ? new URL(context.url) : null;
  } catch {
    url = null;
  }
  if (url && (url.protocol === "https:" || url.protocol === "http:")) {
    return h("a", { class: "chat-context", href: url.href, target: "_blank", rel: "noopener noreferrer nofollow", text });
  }
  return h("span", { class: "chat-context", text });
}

/** @param {object} hooks  me(), act(actionId) -> Promise, onError(text), onSettings(settings) */
export function createHeader(hooks) {
  const els = {
    title: $("#chat-title"),
    avatar: $("#chat-avatar"),
    dot: $("#presence-dot"),
    presence: $("#presence-text"),
    turn: $("#chat-turn"),
    meta: $("#chat-meta"),
    actions: $("#chat-actions"),
    main: $("#chat-main"),
    more: $("#chat-more"),
    muted: $("#chat-muted"),
  };
  const settings = createSettingsMenu({ me: hooks.me, onChanged: (s) => hooks.onSettings(s), onError: hooks.onError });
  // On a phone the actions fold into a menu behind the "more" button.
  const more = menu(els.more, els.actions, { show: (on) => (els.actions.dataset.open = String(on)) });

  const nameOf = (view) => view.other?.name || view.other?.id || "";

  function presence(view) {
    if (!view?.other) return;
    const other = view.other;
    let status = "offline";
    let text = other.last_seen ? `Offline · last seen ${shortTime(other.last_seen)}` : "Offline";
    if (view.present.has(other.id)) {
      status = view.otherStatus && view.otherStatus !== "online" ? view.otherStatus : "here";
      text = status === "here" ? "In this conversation" : capital(status);
    } else if (other.is_online) {
      status = view.otherStatus || "online";
      text = capital(status);
    }
    els.dot.dataset.status = status;
    els.presence.textContent = `${roleLabel(other.role)}${other.role ? " · " : ""}${text}`;
  }

  function actions(view) {
    more.close(false);
    const list = [];
    if (view.available.includes("cancel")) list.push(["cancel", "Cancel collaboration"]);
    if (view.available.includes("close_chat")) list.push(["close_chat", "Close chat"]);
    fill(
      els.actions,
      list.map(([id, label]) => {
        const b = h("button", { type: "button", class: "btn btn-small btn-danger-outline", text: label });
        b.addEventListener("click", async () => {
          if (b.dataset.confirm !== "1") {
            b.dataset.confirm = "1";
            b.textContent = `Confirm: ${label.toLowerCase()}`;
            return;
          }
          b.disabled = true;
          try {
            await hooks.act(id);
          } catch (err) {
            hooks.onError(explain(err));
            b.disabled = false;
          }
        });
        return b;
      }),
    );
    els.more.hidden = list.length === 0;
  }

  return {
    /** Empties the header while a conversation loads. */
    loading() {
      fill(els.title, "Loading…");
      fill(els.avatar);
      fill(els.actions);
      els.more.hidden = true;
      fill(els.muted);
      settings.render(null);
      els.turn.textContent = "";
      els.meta.textContent = "";
      els.presence.textContent = "";
    },
    failed() {
      fill(els.title, "Conversation unavailable");
    },
    render(view) {
      const c = view.context || {};
      fill(els.title, nameOf(view));
      fill(els.avatar, view.other ? avatar(view.other) : null);
      const t = turn(c, hooks.me().role, nameOf(view));
      els.turn.textContent = t ? t.text : "";
      els.turn.dataset.kind = t?.kind || "";
      const bits = [];
      if (c.conversation_type) bits.push(capital(c.conversation_type));
      const about = view.source?.title;
      if (about) bits.push(`“${about}”`);
      const asked = about ? null : inquiry(view.conversation?.context);
      const archived = view.settings?.archived ? h("span", { class: "chat-archived", text: "Archived" }) : null;
      const parts = [bits.join(" · "), asked, archived].filter(Boolean);
      fill(els.meta, parts.flatMap((part, i) => (i ? [" · ", part] : [part])));
      fill(els.muted, mutedIcon(view.settings?.muted_until));
      settings.render(view);
      els.main.dataset.flowState = c.flow_state || "";
      els.main.dataset.chatStatus = c.chat_status || "";
      presence(view);
      actions(view);
    },
    presence,
  };
}
