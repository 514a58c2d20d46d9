// What the viewer does to a message: edit (own text, within the edit
// window), delete (own text; an admin any message), react and reply. Each
// goes over the socket when it is up, else over its REST twin; the answer is
// applied at once and the other side learns it from the server's events.

import { api, emit, explain } from "./api.js";

/**
 * The server's default EDIT_WINDOW_MS. The page offers Edit within it; a
 * server configured otherwise still has the last word (its refusal is shown).
 */
export const EDIT_WINDOW_MS = 15 * 60 * 1000;

/**
 * @param {object} pane
 *   view(), me(), socket(), connected()
 *   patch(id, fields)   merges fields into a loaded message and redraws
 *   redraw()            draws the open conversation again
 *   composer            startReply(m, who), startEdit(m), showError(text)
 *   nameOf(userId)      "You", or the other person's name
 */
export function createMessageOps(pane) {
  function call(event, payload, method, path, body) {
    return pane.connected() ? emit(pane.socket(), event, payload) : api(method, path, body);
  }

  const person = (m) => m.message_type === "user_input";

  /** What the viewer may do to `m` now. */
  function can(m) {
    const view = pane.view();
    const me = pane.me();
    const participant = view?.conversation?.participants ? view.conversation.participants.includes(me.id) : me.role !== "admin";
    const closed = view?.context?.chat_status === "closed";
    const alive = !m.deleted_at && !m.pending;
    const mine = m.sender_id === me.id;
    const fresh = Date.now() - new Date(m.created_at).getTime() < EDIT_WINDOW_MS;
    return {
      react: alive && participant && !closed && person(m),
      reply: alive && participant && !closed && person(m) && view?.context?.chat_status === "real_time",
      edit: alive && mine && person(m) && !closed && Boolean(m.message) && fresh,
      // A closed conversation can only be read (CONVERSATION_CLOSED); moderation is the exception.
      remove: alive && ((mine && person(m) && !closed) || me.role === "admin"),
    };
  }

  async function saveEdit(m, text) {
    try {
      const { message } = await call("edit_message", { messageId: m.id, message: text }, "PUT", `/api/messages/${m.id}`, { message: text });
      pane.patch(message.id, message);
    } catch (err) {
      // Back in the box to try again or cancel, with the server's reason (its window may differ).
      pane.composer.startEdit(m, text);
      const reason = err.code === "VALIDATION_FAILED" && typeof err.details?.messageId === "string" ? err.details.messageId : null;
      pane.composer.showError(reason ? `This message cannot be edited: ${reason}.` : explain(err));
    }
  }

  async function remove(m) {
    try {
      const { message } = await call("delete_message", { messageId: m.id }, "DELETE", `/api/messages/${m.id}`);
      pane.patch(message.id, message);
    } catch (err) {
      pane.composer.showError(explain(err));
    }
  }

  async function toggleReaction(m, emoji) {
    const view = pane.view();
    const current = view?.messages.find((x) => x.id === m.id) || m;
    const mine = Boolean(current.reactions?.[emoji]?.includes(pane.me().id));
    const payload = { messageId: m.id, emoji };
    try {
      const res = mine
        ? await call("remove_reaction", payload, "DELETE", `/api/messages/${m.id}/reactions/${encodeURIComponent(emoji)}`)
        : await call("add_reaction", payload, "POST", `/api/messages/${m.id}/reactions`, { emoji });
      pane.patch(res.message_id, { reactions: res.reactions });
    } catch (err) {
      pane.composer.showError(explain(err));
    }
  }

  const here = (conversationId) => pane.view()?.id === conversationId;

  return {
    /** The server's events about messages, applied to the open conversation. */
    events: {
      /** `message_updated`: an edit or a delete. */
      onMessageUpdated(data) {
        if (here(data.conversation_id) && data.message) pane.patch(data.message.id, data.message);
      },
      onMessageDeleted(data) {
        if (!here(data.conversation_id)) return;
        pane.patch(data.message_id, { message: "", media_url: null, reactions: {}, deleted_at: data.deleted_at });
      },
      onReactionUpdated(data) {
        if (here(data.conversation_id)) pane.patch(data.message_id, { reactions: data.reactions || {} });
      },
    },
    can,
    me: () => pane.me(),
    menuClosed: () => pane.redraw(),
    reply: (m) => pane.composer.startReply(m, pane.nameOf(m.sender_id)),
    edit: (m) => pane.composer.startEdit(m),
    saveEdit,
    remove,
    toggleReaction,
  };
}
