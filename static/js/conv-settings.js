// The viewer's own settings for a conversation, which change nothing for the
// other person: archive (the other's next message brings it back) and mute
// (no alerts for a while, or until turned back on). The header's options
// menu changes them; the list and the header show them.

import { api, explain } from "./api.js";
import { $, h } from "./dom.js";
import { menu } from "./menu.js";

const HOUR = 3600 * 1000;
/** The mute durations offered; null = until unmuted. */
export const MUTE_CHOICES = [
  ["For 1 hour", HOUR],
  ["For 8 hours", 8 * HOUR],
  ["For 1 week", 7 * 24 * HOUR],
  ["Until I turn it back on", null],
];

/** `muted_until` is null, a time, or "forever". */
export function isMuted(mutedUntil, now = Date.now()) {
  if (!mutedUntil) return false;
  return mutedUntil === "forever" || new Date(mutedUntil).getTime() > now;
}

export function mutedText(mutedUntil) {
  if (mutedUntil === "forever") return "Muted until you turn it back on";
  const when = new Date(mutedUntil).toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit", day: "numeric", month: "short" });
  return `Muted until ${when}`;
}

/** The muted sign for a header or a list row, or null when not muted. */
export function mutedIcon(mutedUntil) {
  if (!isMuted(mutedUntil)) return null;
  const text = mutedText(mutedUntil);
  return h("span", { class: "muted-icon", role: "img", "aria-label": text, title: text, text: "🔕" });
}

/**
 * The header's options button and panel.
 * @param {object} hooks  onChanged({conversation_id, archived, muted_until}), onError(text)
 */
export function createSettingsMenu(hooks) {
  const button = $("#chat-options");
  const panel = $("#chat-options-panel");
  let view = null;
  const self = menu(button, panel, { onOpen: () => fillPanel() });

  async function change(action, body) {
    const id = view?.id;
    if (!id) return;
    self.close();
    try {
      const res = await api("POST", `/api/messages/conversations/${id}/${action}`, body);
      hooks.onChanged({ conversation_id: res.conversation_id || id, archived: res.archived, muted_until: res.muted_until });
    } catch (err) {
      hooks.onError(explain(err));
    }
  }

  const item = (text, onClick) => h("button", { type: "button", class: "msg-menu-item", text, on: { click: onClick } });

  function fillPanel() {
    const s = view?.settings || {};
    const items = [
      s.archived
        ? item("Unarchive", () => change("unarchive"))
        : item("Archive", () => change("archive")),
    ];
    if (isMuted(s.muted_until)) {
      items.push(h("p", { class: "menu-note", text: mutedText(s.muted_until) }), item("Unmute", () => change("unmute")));
    } else {
      items.push(
        h("p", { class: "menu-note", id: "mute-label", text: "Mute notifications" }),
        h(
          "div",
          { class: "menu-group", role: "group", "aria-labelledby": "mute-label" },
          MUTE_CHOICES.map(([label, ms]) =>
            item(label, () => change("mute", ms === null ? {} : { until: new Date(Date.now() + ms).toISOString() })),
          ),
        ),
      );
    }
    panel.replaceChildren(...items);
  }

  return {
    /** Shows the button for conversation `v` (participants only: these are theirs). */
    render(v) {
      view = v;
      const me = hooks.me();
      const participant = v?.conversation?.participants ? v.conversation.participants.includes(me.id) : me.role !== "admin";
      button.hidden = !v || !participant;
      if (button.hidden) self.close(false);
    },
  };
}
