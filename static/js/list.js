// The conversation list: what each conversation is about (the campaign or
// bid, the listing, or the person), whose turn it is, the last message from
// the viewer's side ("You: …", "Waiting for Asha to …"), drafts and unread
// counts, a muted sign; the archived ones under their own filter. Kept
// current by socket events; reloaded after a reconnect.

import { api, explain } from "./api.js";
import { mutedIcon } from "./conv-settings.js";
import { $, avatar, capital, debounce, fill, h, shortTime } from "./dom.js";
import { turn, waitingFor } from "./flow.js";

/**
 * @param {object} app  me(), currentId(), draft(id), openConversation(id)
 */
export function createList(app) {
  const list = $("#conversation-list");
  const empty = $("#conversation-empty");
  const error = $("#conversation-error");
  let conversations = new Map();
  /** "" (all), a conversation type, or "archived". */
  let filter = "";
  const archivedView = () => filter === "archived";
  /** Whether conversation `c` belongs under the current filter. */
  const fits = (c) => (archivedView() ? Boolean(c.archived) : !c.archived && (!filter || c.conversation_type === filter));

  const nameOf = (c) => c.other_user?.name || c.other_user?.id || "Unknown";

  /** What the conversation is about, for its title: the campaign or bid, the listing. */
  function about(c) {
    return c.flow_data?.source?.title || c.context?.title || null;
  }

  function preview(c) {
    const me = app.me();
    const m = c.last_message;
    if (!m) return "No messages yet";
    if (m.deleted_at) return "Message deleted";
    if (m.message_type === "user_input") {
      const text = m.message || (m.media_url ? "Shared a link" : "");
      return m.sender_id === me.id ? `You: ${text}` : text;
    }
    const card = m.action_data;
    if (card?.title && card.visible_to && card.visible_to !== me.role) return `${waitingFor(card, me.role, nameOf(c))}…`;
    return m.message || card?.title || "";
  }

  function row(c, active) {
    const me = app.me();
    const name = nameOf(c);
    const topic = about(c);
    const title = c.conversation_type === "direct" || !topic ? name : topic;
    const t = turn(c, me.role, name);
    const unread = c.unread_count || 0;
    const draft = active ? "" : app.draft(c.id).trim();
    const last = draft ? `Draft: ${draft}` : preview(c);
    const status = t ? (t.kind === "waiting" ? "Their turn" : t.short) : null;
    const with_ = c.conversation_type === "direct" ? (topic ? `About ${topic}` : null) : `with ${name}`;
    const button = h(
      "button",
      { type: "button", class: "conversation", "aria-current": active ? "true" : null, dataset: { id: c.id } },
      h(
        "span",
        { class: "avatar-wrap" },
        avatar(c.other_user || { id: c.id }),
        h("span", { class: "presence", dataset: { status: c.other_user?.is_online ? "online" : "offline" }, "aria-hidden": "true" }),
      ),
      h(
        "span",
        { class: "conversation-body" },
        h(
          "span",
          { class: "conversation-top" },
          h("span", { class: "conversation-name", text: title }),
          mutedIcon(c.muted_until),
          h("time", { class: "conversation-time", datetime: c.last_message_at, text: shortTime(c.last_message_at) }),
        ),
        h(
          "span",
          { class: "conversation-sub" },
          h("span", { class: `badge badge-${c.conversation_type}`, text: capital(c.conversation_type) }),
          with_ ? h("span", { class: "conversation-with", text: with_ }) : null,
          status ? h("span", { class: `conversation-state ${t.kind === "yours" ? "badge badge-turn" : ""}`.trim(), text: status }) : null,
        ),
        h(
          "span",
          { class: "conversation-bottom" },
          h("span", { class: `conversation-last ${draft ? "is-draft" : ""}`.trim(), text: last }),
          unread ? h("span", { class: "badge badge-unread" }, String(unread), h("span", { class: "visually-hidden", text: " unread" })) : null,
        ),
      ),
    );
    button.addEventListener("click", () => app.openConversation(c.id));
    return h("li", {}, button);
  }

  function render() {
    const items = [...conversations.values()]
      .filter(fits)
      .sort((a, b) => (a.last_message_at < b.last_message_at ? 1 : a.last_message_at > b.last_message_at ? -1 : 0));
    empty.hidden = items.length > 0;
    empty.textContent = archivedView()
      ? "No archived conversations."
      : "No conversations yet. Start one from the Marketplace or New chat.";
    const current = app.currentId();
    fill(list, items.map((c) => row(c, c.id === current)));
  }

  function setTotal(total) {
    const badge = $("#total-unread");
    badge.hidden = !total;
    badge.textContent = total ? `${total} unread` : "";
    document.title = total ? `(${total}) Parley` : "Parley";
  }

  async function load() {
    try {
      const type = archivedView() ? "&archived=true" : filter ? `&type=${filter}` : "";
      const res = await api("GET", `/api/messages/conversations?limit=100${type}`);
      conversations = new Map(res.conversations.map((c) => [c.id, c]));
      error.textContent = "";
      render();
      await refreshTotal();
    } catch (err) {
      error.textContent = explain(err);
    }
  }

  async function refreshTotal() {
    try {
      setTotal((await api("GET", "/api/messages/unread-count")).unread_count);
    } catch {
      // The next event or reload sets it.
    }
  }
  const reloadSoon = debounce(load, 250);

  document.querySelectorAll("input[name=conv-filter]").forEach((radio) =>
    radio.addEventListener("change", () => {
      filter = radio.value;
      load();
    }),
  );

  return {
    load,
    reloadSoon,
    render,
    setTotal,
    get: (id) => conversations.get(id),
    all: () => [...conversations.values()],
    clear() {
      conversations = new Map();
      fill(list);
    },
    /** Focuses a conversation's row (after coming back from it on a phone). */
    focusRow(id) {
      list.querySelector(`.conversation[data-id="${CSS.escape(id)}"]`)?.focus();
    },
    /** A new message in any conversation. */
    noteActivity(conversationId, message, context) {
      const c = conversations.get(conversationId);
      if (!c) {
        if (!filter || context?.conversation_type === filter) reloadSoon();
        return;
      }
      // The other participant's message brings an archived conversation back (the server did so too).
      if (c.archived && message.sender_id === c.other_user?.id) {
        c.archived = false;
        if (archivedView()) conversations.delete(conversationId);
      }
      c.last_message = message;
      c.last_message_at = message.created_at;
      if (context) Object.assign(c, { flow_state: context.flow_state, awaiting_role: context.awaiting_role, chat_status: context.chat_status });
      render();
    },
    /** An edit or delete of a message, which may be the one a row shows. */
    noteMessage(conversationId, messageId, fields) {
      const c = conversations.get(conversationId);
      if (!c || c.last_message?.id !== messageId) return;
      c.last_message = { ...c.last_message, ...fields };
      render();
    },
    /** The viewer archived, unarchived, muted or unmuted a conversation (here or on another device). */
    noteSettings(data) {
      const c = conversations.get(data.conversation_id);
      if (!c) {
        if (archivedView() === Boolean(data.archived)) reloadSoon();
        return;
      }
      const unarchived = c.archived && !data.archived;
      Object.assign(c, { archived: Boolean(data.archived), muted_until: data.muted_until ?? null });
      if (!fits(c)) conversations.delete(c.id);
      render();
      // The unread total leaves archived conversations out.
      if (unarchived || data.archived) refreshTotal();
    },
    noteState(data) {
      const c = conversations.get(data.conversation_id);
      if (!c) return;
      Object.assign(c, { flow_state: data.new_state, awaiting_role: data.awaiting_role, chat_status: data.chat_status });
      render();
    },
    noteUnread(data) {
      const c = conversations.get(data.conversation_id);
      if (c) c.unread_count = data.unread_count;
      setTotal(data.total_unread);
      render();
    },
    /** Presence of a user the viewer shares conversations with. */
    noteUser(userId, status, lastSeen) {
      let changed = false;
      for (const c of conversations.values()) {
        if (c.other_user?.id === userId) {
          c.other_user.is_online = status !== "offline";
          if (lastSeen) c.other_user.last_seen = lastSeen;
          changed = true;
        }
      }
      if (changed) render();
    },
  };
}
