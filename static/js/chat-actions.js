// What the viewer does in the open conversation: flow actions (a card's
// buttons and forms), sending a message (shown as "sending…" until the ack,
// over REST when the socket is down) and the typing indicator.

import { api, emit, explain } from "./api.js";

/**
 * @param {object} pane  what the message pane lends:
 *   view()            the open conversation's state, or null
 *   socket(), connected()
 *   upsert(...messages), applyContext(context), refreshContext()
 *   addPending(view, clientId, text), dropPending(view, clientId)
 *   composer          restore(id, text), showError(text)
 */
export function createActions(pane) {
  /** A flow action by button id; applies the ack's conversation and messages. */
  async function act(buttonId, data) {
    const view = pane.view();
    const ack = await emit(pane.socket(), "button_action", {
      conversationId: view.id,
      button_id: buttonId,
      additional_data: data,
    });
    after(view, ack);
  }

  /** An input card: one field goes as `text_input`, several as `button_action`. */
  async function submitCard(card, values) {
    const view = pane.view();
    const ids = Object.keys(values);
    const single = !card.input_fields && card.input_field && ids.length === 1;
    const ack = single
      ? await emit(pane.socket(), "text_input", {
          conversationId: view.id,
          input_type: card.submit_action,
          text: String(values[ids[0]]),
        })
      : await emit(pane.socket(), "button_action", {
          conversationId: view.id,
          button_id: card.submit_action,
          additional_data: values,
        });
    after(view, ack);
  }

  function after(view, ack) {
    if (pane.view() !== view) return;
    pane.upsert(...(ack.messages || []));
    if (ack.conversation) {
      const c = ack.conversation;
      pane.applyContext({
        id: c.id,
        conversation_type: c.conversation_type,
        chat_status: c.chat_status,
        flow_state: c.flow_state,
        awaiting_role: c.awaiting_role,
        current_action_data: c.current_action_data,
      });
    }
    pane.refreshContext();
  }

  function newClientId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /** Sends `text`; `mode` {kind: "reply", message} makes it a reply to that message. */
  async function send(text, mode = null) {
    const view = pane.view();
    if (!view) return;
    const replyTo = mode?.kind === "reply" ? mode.message.id : undefined;
    const clientMessageId = newClientId();
    pane.addPending(view, clientMessageId, text);
    pane.composer.showError("");
    try {
      let message;
      if (pane.connected()) {
        ({ message } = await emit(pane.socket(), "send_message", { conversationId: view.id, message: text, clientMessageId, replyTo }));
      } else {
        ({ message } = await api("POST", "/api/messages/send", {
          conversation_id: view.id,
          message: text,
          client_message_id: clientMessageId,
          reply_to: replyTo,
        }));
      }
      if (pane.view() === view) pane.upsert(message);
    } catch (err) {
      pane.dropPending(view, clientMessageId);
      if (pane.view() !== view) return;
      pane.composer.restore(view.id, text, mode);
      pane.composer.showError(explain(err));
    }
  }

  function startTyping() {
    const view = pane.view();
    if (!view || !pane.connected()) return;
    if (!view.typingSent) {
      view.typingSent = true;
      pane.socket().emit("typing_start", { conversationId: view.id }, () => {});
    }
    clearTimeout(view.typingTimer);
    view.typingTimer = setTimeout(stopTyping, 3000);
  }

  function stopTyping() {
    const view = pane.view();
    if (!view) return;
    clearTimeout(view.typingTimer);
    if (view.typingSent && pane.connected()) pane.socket().emit("typing_stop", { conversationId: view.id }, () => {});
    view.typingSent = false;
  }

  return { act, submitCard, send, startTyping, stopTyping };
}
