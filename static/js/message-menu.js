// What hangs off a person's message: its actions menu (reply, react with a
// few emoji, and on one's own message edit within the edit window and
// delete with a confirming second click), the reactions under it as chips
// with counts (one's own highlighted; a click toggles it), and the quoted
// message a reply answers.

import { h } from "./dom.js";
import { menu } from "./menu.js";

/** The picker's emoji: few enough to fit a phone's width. */
export const QUICK_EMOJI = ["👍", "❤️", "😂", "🎉", "🙏", "😮"];

/**
 * The "⋯" button and its panel for message `m`. `ops` (see message-ops.js):
 * can(m) -> {reply, react, edit, remove}, reply(m), edit(m), remove(m), toggleReaction(m, emoji),
 * menuClosed() (the message is redrawn then if it changed while its menu was open).
 * The panel is filled when it opens, so the edit window is judged then.
 */
export function messageMenu(m, ops) {
  const button = h(
    "button",
    { type: "button", class: "icon-button msg-menu-button", "aria-haspopup": "true", "aria-expanded": "false", "aria-label": "Message actions" },
    h("span", { "aria-hidden": "true", text: "⋯" }),
  );
  const panel = h("div", { class: "menu-panel msg-menu", role: "group", "aria-label": "Message actions", hidden: true });
  const wrap = h("div", { class: "msg-menu-wrap" }, button, panel);
  const self = menu(button, panel, { onOpen: () => fillPanel(), onClose: () => ops.menuClosed?.() });

  function item(label, onClick, cls = "") {
    return h("button", { type: "button", class: `msg-menu-item ${cls}`.trim(), text: label, on: { click: onClick } });
  }

  function fillPanel() {
    const can = ops.can(m);
    const items = [];
    if (can.react) {
      items.push(
        h(
          "div",
          { class: "emoji-picker", role: "group", "aria-label": "React" },
          QUICK_EMOJI.map((emoji) =>
            h("button", {
              type: "button",
              class: "emoji-choice",
              "aria-label": `React with ${emoji}`,
              "aria-pressed": String(Boolean(m.reactions?.[emoji]?.includes(ops.me().id))),
              text: emoji,
              on: {
                click: () => {
                  self.close();
                  ops.toggleReaction(m, emoji);
                },
              },
            }),
          ),
        ),
      );
    }
    if (can.reply) {
      items.push(
        item("Reply", () => {
          self.close(false);
          ops.reply(m);
        }),
      );
    }
    if (can.edit) {
      items.push(
        item("Edit", () => {
          self.close(false);
          ops.edit(m);
        }),
      );
    }
    if (can.remove) {
      const del = item("Delete", () => {
        if (del.dataset.confirm !== "1") {
          del.dataset.confirm = "1";
          del.textContent = "Confirm delete";
          return;
        }
        self.close();
        ops.remove(m);
      }, "is-danger");
      items.push(del);
    }
    panel.replaceChildren(...items);
  }

  return wrap;
}

/** Whether message `m` has anything its menu could offer. */
export function hasActions(m, ops) {
  const can = ops.can(m);
  return can.react || can.reply || can.edit || can.remove;
}

/** The reaction chips under a message, or null when it has none. */
export function reactionChips(m, ops, nameOf) {
  const entries = Object.entries(m.reactions || {}).filter(([, who]) => who?.length);
  if (!entries.length) return null;
  const me = ops.me().id;
  const canReact = ops.can(m).react;
  return h(
    "div",
    { class: "reactions", role: "group", "aria-label": "Reactions" },
    entries.map(([emoji, who]) => {
      const mine = who.includes(me);
      const names = who.map((id) => (id === me ? "You" : nameOf(id)));
      return h(
        "button",
        {
          type: "button",
          class: `reaction ${mine ? "is-mine" : ""}`.trim(),
          "aria-pressed": String(mine),
          "aria-label": `${emoji} ${who.length}${mine ? ", including you" : ""}`,
          title: names.join(", "),
          disabled: !canReact,
          dataset: { emoji },
          on: { click: () => ops.toggleReaction(m, emoji) },
        },
        h("span", { class: "reaction-emoji", "aria-hidden": "true", text: emoji }),
        h("span", { class: "reaction-count", "aria-hidden": "true", text: String(who.length) }),
      );
    }),
  );
}

/** The quoted message above a reply; a click shows the original when it is loaded. */
export function replyQuote(reply, nameOf, onOpen) {
  const gone = !reply.message;
  const sender = nameOf(reply.sender_id);
  const text = gone ? "Original message deleted" : reply.message;
  return h(
    "button",
    {
      type: "button",
      class: `msg-quote ${gone ? "is-deleted" : ""}`.trim(),
      dataset: { replyTo: reply.id },
      on: { click: () => onOpen(reply.id) },
    },
    h("span", { class: "visually-hidden", text: "In reply to " }),
    gone ? null : h("span", { class: "msg-quote-sender", text: sender }),
    gone ? null : h("span", { class: "visually-hidden", text: ": " }),
    h("span", { class: "msg-quote-text", text }),
  );
}
