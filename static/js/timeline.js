// How the message pane draws a conversation: who speaks (a person, or the
// platform for flow cards and notices), avatars and grouping of consecutive
// messages, date separators, the "New messages" line, media previews and
// links; "(edited)", tombstones, quoted replies, reactions and each
// message's actions menu (message-menu.js). Each message keeps its node, and nodes are moved into place rather
// than redrawn, so a card being filled in keeps its focus and its input.

import { renderCard } from "./cards.js";
import { avatar, clockTime, dayKey, dayLabel, h, linkify, shortTime } from "./dom.js";
import { waitingFor } from "./flow.js";
import { hasActions, messageMenu, reactionChips, replyQuote } from "./message-menu.js";

/** Who flow cards and notices come from, whoever's action wrote them. */
export const PLATFORM = { id: "platform", name: "Parley" };
const GROUP_MS = 5 * 60 * 1000;
const IMAGE_RE = /\.(png|jpe?g|gif|webp|avif)$/i;

const isPerson = (m) => m.message_type === "user_input";

/**
 * Which messages continue the one before them (same person, same day,
 * within five minutes), and where the date separators go. Pure, so the
 * page's grouping rules can be checked on their own.
 * Returns [{type: "day", key, label} | {type: "message", message, continued}].
 */
export function arrange(messages, now = new Date()) {
  const out = [];
  let prev = null;
  let day = null;
  for (const m of messages) {
    const key = dayKey(m.created_at);
    if (key !== day) {
      out.push({ type: "day", key, label: dayLabel(m.created_at, now) });
      day = key;
      prev = null;
    }
    const continued =
      prev !== null &&
      isPerson(m) &&
      isPerson(prev) &&
      prev.sender_id === m.sender_id &&
      new Date(m.created_at) - new Date(prev.created_at) < GROUP_MS;
    out.push({ type: "message", message: m, continued });
    prev = m;
  }
  return out;
}

/** A preview of `media_url`: the image itself, or a link showing its host. */
function media(url, who) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return null;
  const link = () =>
    h(
      "a",
      { class: "link-preview", href: parsed.href, target: "_blank", rel: "noopener noreferrer nofollow" },
      h("span", { class: "link-host", text: parsed.host }),
      h("span", { class: "link-url", text: parsed.href }),
    );
  if (!IMAGE_RE.test(parsed.pathname)) return link();
  const name = decodeURIComponent(parsed.pathname.split("/").pop() || "image");
  const img = h("img", { src: parsed.href, alt: `Image from ${who}: ${name}`, loading: "lazy", decoding: "async" });
  const anchor = h("a", { class: "media-preview", href: parsed.href, target: "_blank", rel: "noopener noreferrer nofollow" }, img);
  img.addEventListener("error", () => anchor.replaceWith(link()));
  return anchor;
}

/**
 * @param {HTMLElement} list  the <ol> the messages go in
 * @param {object} env
 *   me()          the signed-in user
 *   other()       the other participant ({id, name, role}) or null
 *   isLive(m)     whether a card can still be answered
 *   doneText(m)   what an answered card says
 *   cardActions   {onButton, onSubmit, onPay, onDone, sandbox()}
 *   ops           what can be done to a message (message-ops.js)
 *   onQuote(id)   a reply's quote was clicked: show message `id`
 */
export function createTimeline(list, env) {
  const nodes = new Map(); // message id -> <li>
  const days = new Map(); // day key -> separator <li>
  const marker = h("li", { class: "new-marker", id: "new-marker" }, h("span", { text: "New messages" }));
  let markerBefore = null; // the id of the first message after the marker

  function nameOf(userId) {
    if (userId === env.me().id) return "You";
    if (env.other()?.id === userId) return env.other().name || userId;
    return userId || "Unknown";
  }
  const who = (m) => nameOf(m.sender_id);

  // Everything a message's node shows, so that it is redrawn when any of it changes
  // (the other person's name arrives with the context, possibly after the message).
  function key(m) {
    const card = m.action_data ? `${env.isLive(m)}|${env.doneText(m)}` : "";
    const ops = isPerson(m) ? [m.edited_at, m.deleted_at, JSON.stringify(m.reactions || {}), JSON.stringify(m.reply_to || null), JSON.stringify(env.ops.can(m))] : [];
    return [m.message, m.media_url, m.seen, m.action_completed, card, env.other()?.name, ...ops].join("|");
  }

  function meta(name, m, extra) {
    return h(
      "p",
      { class: "msg-meta" },
      h("span", { class: "msg-sender", text: name }),
      " ",
      h("time", { datetime: m.created_at, title: new Date(m.created_at).toLocaleString(), text: clockTime(m.created_at) }),
      extra,
    );
  }

  function cardFor(m, text) {
    const card = m.action_data;
    const role = env.me().role;
    const mine = !card.visible_to || card.visible_to === role;
    const live = env.isLive(m);
    const actions = env.cardActions;
    return {
      mine,
      node: renderCard(m, {
        mine,
        live,
        waiting: waitingFor(card, role, env.other()?.name),
        doneText: env.doneText(m),
        text: mine ? null : text,
        said: mine ? text : null,
        sandbox: actions.sandbox(),
        onButton: actions.onButton,
        onSubmit: actions.onSubmit,
        onPay: actions.onPay,
        onDone: actions.onDone,
      }),
    };
  }

  function renderMessage(m) {
    const props = (cls) => ({ class: `msg ${cls} msg-${m.message_type}`, dataset: { id: m.id, type: m.message_type, rendered: key(m) } });
    if (m.message_type === "audit") {
      return h(
        "li",
        props("msg-notice"),
        h("p", { class: "msg-text", text: m.message }),
        h("p", { class: "msg-meta" }, h("span", { class: "msg-private", text: "Only you see this" }), " · ", h("time", { datetime: m.created_at, text: clockTime(m.created_at) })),
      );
    }
    if (!isPerson(m)) {
      const li = h("li", props("msg-notice msg-platform"));
      const mark = h("img", { class: "avatar avatar-platform", src: "icon.png", alt: "" });
      li.append(h("div", { class: "msg-head" }, mark, meta(PLATFORM.name, m)));
      const hasCard = m.action_data && typeof m.action_data === "object" && m.action_data.title;
      const card = hasCard ? cardFor(m, m.message) : null;
      if (m.message && (!card || card.mine)) li.append(h("p", { class: "msg-text", text: m.message }));
      if (card) {
        li.dataset.live = card.node.dataset.live;
        li.append(card.node);
      }
      return li;
    }
    const mine = m.sender_id === env.me().id;
    const li = h("li", props(mine ? "msg-mine" : "msg-theirs"));
    if (!mine) li.append(avatar(env.other() || { id: m.sender_id }));
    const expires = m.expires_at
      ? h("span", { class: "msg-expires", title: `Disappears ${new Date(m.expires_at).toLocaleString()}`, text: ` · disappears ${shortTime(m.expires_at)}` })
      : null;
    // Under the text rather than in the name line, which a grouped message hides.
    const edited = m.edited_at && !m.deleted_at
      ? h("span", { class: "msg-edited", title: `Edited ${new Date(m.edited_at).toLocaleString()}`, text: "(edited)" })
      : null;
    const bubble = h("div", { class: "msg-bubble" }, meta(who(m), m, expires));
    if (m.deleted_at) {
      li.classList.add("msg-deleted");
      bubble.append(h("p", { class: "msg-tombstone", text: "Message deleted" }));
      li.append(h("div", { class: "msg-body" }, bubble));
      return li;
    }
    if (m.reply_to) bubble.append(replyQuote(m.reply_to, nameOf, env.onQuote));
    if (m.message) bubble.append(h("p", { class: "msg-text" }, linkify(m.message)));
    if (m.media_url) {
      const preview = media(m.media_url, who(m));
      if (preview) bubble.append(preview);
    }
    if (mine) {
      bubble.append(
        h(
          "p",
          { class: `msg-status ${m.seen ? "is-seen" : ""}`, dataset: { status: m.seen ? "seen" : "sent" } },
          edited,
          edited ? " · " : null,
          h("span", { text: m.seen ? "✓✓ Seen" : "✓ Sent" }),
        ),
      );
    } else if (edited) {
      bubble.append(h("p", { class: "msg-foot" }, edited));
    }
    li.append(h("div", { class: "msg-body" }, bubble, reactionChips(m, env.ops, nameOf)));
    if (hasActions(m, env.ops)) li.append(messageMenu(m, env.ops));
    return li;
  }

  function nodeFor(m) {
    const known = nodes.get(m.id);
    // A card that is sending its answer keeps its node until the answer lands, and a
    // message whose menu is open keeps it until the menu shuts (then it is redrawn).
    const busy = known?.querySelector('[aria-busy], .msg-menu-button[aria-expanded="true"]');
    if (known && (known.dataset.rendered === key(m) || busy)) return known;
    const fresh = renderMessage(m);
    nodes.set(m.id, fresh);
    return fresh;
  }

  function separator(item) {
    let node = days.get(item.key);
    if (!node) {
      node = h("li", { class: "day-separator" }, h("span", { text: item.label }));
      days.set(item.key, node);
    }
    node.firstChild.textContent = item.label;
    return node;
  }

  /** Draws `messages` (sorted) followed by the `pending` sends. */
  /**
   * Where the keyboard focus is inside a message's node (its menu button, a
   * reaction chip, its quote), so a redrawn node can take it back.
   */
  function focusSpot() {
    const el = document.activeElement;
    const li = el?.closest?.("#message-list > li[data-id]");
    if (!li) return null;
    if (el.matches(".reaction")) return { id: li.dataset.id, selector: `.reaction[data-emoji="${CSS.escape(el.dataset.emoji)}"]`, el };
    for (const selector of [".msg-menu-button", ".msg-quote"]) if (el.matches(selector)) return { id: li.dataset.id, selector, el };
    return { id: li.dataset.id, selector: ".msg-menu-button", el };
  }

  function restoreFocus(spot) {
    if (!spot || spot.el.isConnected) return;
    const li = nodes.get(spot.id);
    (li?.querySelector(spot.selector) || li?.querySelector(".msg-menu-button"))?.focus({ preventScroll: true });
  }

  function render(messages, pending) {
    const spot = focusSpot();
    const desired = [];
    for (const item of arrange(messages)) {
      if (item.type === "day") {
        desired.push(separator(item));
        continue;
      }
      const m = item.message;
      if (m.id === markerBefore) desired.push(marker);
      const node = nodeFor(m);
      node.classList.toggle("msg-cont", item.continued);
      desired.push(node);
    }
    desired.push(...pending);
    reconcile(list, desired);
    restoreFocus(spot);
  }

  return {
    render,
    /** Puts the "New messages" line before message `id` (null removes it). */
    markBefore(id) {
      markerBefore = id;
    },
    hasMarker: () => markerBefore !== null,
    /** The drawn node of message `id`, if it is on the page. */
    node: (id) => (nodes.get(id)?.isConnected ? nodes.get(id) : null),
    nameOf,
    marker: () => (marker.isConnected ? marker : null),
    pendingNode(text) {
      return h(
        "li",
        { class: "msg msg-mine msg-pending" },
        h("div", { class: "msg-bubble" }, h("p", { class: "msg-meta", text: "You · sending…" }), h("p", { class: "msg-text", text })),
      );
    },
    clear() {
      nodes.clear();
      days.clear();
      markerBefore = null;
      list.replaceChildren();
    },
  };
}

/** Makes `parent`'s children equal `desired`, moving only what is out of place. */
function reconcile(parent, desired) {
  let cursor = parent.firstChild;
  for (const node of desired) {
    if (node === cursor) {
      cursor = cursor.nextSibling;
      continue;
    }
    parent.insertBefore(node, cursor);
  }
  while (cursor) {
    const next = cursor.nextSibling;
    cursor.remove();
    cursor = next;
  }
}
