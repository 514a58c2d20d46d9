// The message pane: history (older pages load on scroll), live messages,
// cards, typing, seen ticks, presence, and catching up after a reconnect.

import { api, emit, explain } from "./api.js";
import { renderCard } from "./cards.js";
import { $, compareMessages, fill, h, humanState, roleLabel, shortTime } from "./dom.js";
import { pay } from "./payments.js";

const PAGE = 30;
const SYSTEM_NAME = "Parley";

export function createChat(app) {
  const els = {
    empty: $("#chat-empty"),
    main: $("#chat-main"),
    title: $("#chat-title"),
    dot: $("#presence-dot"),
    presence: $("#presence-text"),
    meta: $("#chat-meta"),
    actions: $("#chat-actions"),
    scroller: $("#messages"),
    list: $("#message-list"),
    history: $("#history-status"),
    typing: $("#typing"),
    form: $("#composer"),
    input: $("#composer-input"),
    error: $("#composer-error"),
  };
  /** The open conversation, or null. */
  let cur = null;

  const me = () => app.me();
  const connected = () => app.socket()?.connected;

  // ---- opening and closing ---------------------------------------------
  async function open(id) {
    if (cur?.id === id) return;
    close();
    const view = {
      id,
      messages: [],
      nodes: new Map(),
      pending: new Map(),
      hasMore: false,
      loadingOlder: false,
      present: new Set(),
      other: null,
      context: null,
      available: [],
      typingSent: false,
      typingTimer: null,
      typingClear: null,
    };
    cur = view;
    els.empty.hidden = true;
    els.main.hidden = false;
    els.main.dataset.conversationId = id;
    fill(els.title, "Loading…");
    fill(els.list);
    fill(els.history);
    els.error.textContent = "";
    els.typing.textContent = "";
    try {
      const [ctx, hist] = await Promise.all([
        api("GET", `/api/messages/conversations/${id}/context`),
        api("GET", `/api/messages/conversations/${id}/messages?limit=${PAGE}`),
      ]);
      if (cur !== view) return;
      applyContextResponse(ctx);
      view.hasMore = hist.pagination?.has_more ?? false;
      hist.messages.forEach(upsert);
      renderHistoryStatus();
      scrollToBottom();
      await join();
      markSeen();
    } catch (err) {
      if (cur !== view) return;
      fill(els.title, "Conversation unavailable");
      els.error.textContent = explain(err);
    }
  }

  function close() {
    if (!cur) return;
    stopTyping();
    clearTimeout(cur.typingClear);
    const id = cur.id;
    cur = null;
    if (connected()) emit(app.socket(), "leave_conversation", id).catch(() => {});
    els.main.hidden = true;
    els.empty.hidden = false;
    delete els.main.dataset.conversationId;
  }

  /** Joins the conversation room (on open and after every reconnect). */
  async function join() {
    if (!cur || !connected()) return;
    const view = cur;
    const ack = await emit(app.socket(), "join_conversation", view.id);
    if (cur !== view) return;
    applyPresence(ack.presence || {}, true);
    if (ack.conversation_context) applyContext(ack.conversation_context);
  }

  function applyContextResponse(ctx) {
    cur.other = ctx.other_user;
    cur.source = ctx.source;
    cur.available = ctx.available_actions || [];
    cur.conversation = ctx.conversation;
    applyContext(ctx.conversation_context);
  }

  function applyContext(context) {
    if (!cur) return;
    const changed = JSON.stringify(cur.context) !== JSON.stringify(context);
    cur.context = { ...cur.context, ...context };
    renderHeader();
    if (changed) refreshCards();
    updateComposer();
  }

  async function refreshContext() {
    if (!cur) return;
    const view = cur;
    try {
      const ctx = await api("GET", `/api/messages/conversations/${view.id}/context`);
      if (cur === view) applyContextResponse(ctx);
    } catch {
      // The next event or reconnect refreshes it.
    }
  }

  // ---- header ------------------------------------------------------------
  function otherName() {
    return cur?.other?.name || cur?.other?.id || "";
  }

  function renderHeader() {
    const c = cur.context || {};
    fill(els.title, otherName());
    const bits = [];
    if (c.conversation_type) bits.push(c.conversation_type[0].toUpperCase() + c.conversation_type.slice(1));
    if (cur.source?.title) bits.push(`“${cur.source.title}”`);
    if (c.conversation_type !== "direct" && c.flow_state) bits.push(humanState(c.flow_state));
    els.meta.textContent = bits.length ? `· ${bits.join(" · ")}` : "";
    els.main.dataset.flowState = c.flow_state || "";
    els.main.dataset.chatStatus = c.chat_status || "";
    renderPresence();
    renderActions();
  }

  function renderPresence() {
    if (!cur?.other) return;
    const other = cur.other;
    let status = "offline";
    let text = other.last_seen ? `Offline · last seen ${shortTime(other.last_seen)}` : "Offline";
    if (cur.present.has(other.id)) {
      status = cur.otherStatus && cur.otherStatus !== "online" ? cur.otherStatus : "here";
      text = status === "here" ? "In this conversation" : capital(status);
    } else if (other.is_online) {
      status = cur.otherStatus || "online";
      text = capital(status);
    }
    els.dot.dataset.status = status;
    els.presence.textContent = `${roleLabel(other.role)}${other.role ? " · " : ""}${text}`;
  }

  function renderActions() {
    const actions = [];
    if (cur.available.includes("cancel")) actions.push(["cancel", "Cancel collaboration"]);
    if (cur.available.includes("close_chat")) actions.push(["close_chat", "Close chat"]);
    fill(
      els.actions,
      actions.map(([id, label]) => {
        const b = h("button", { type: "button", class: "btn btn-small btn-danger-outline", text: label });
        b.addEventListener("click", async () => {
          if (b.dataset.confirm !== "1") {
            b.dataset.confirm = "1";
            b.textContent = `Confirm: ${label.toLowerCase()}`;
            return;
          }
          b.disabled = true;
          try {
            await act(id, {});
          } catch (err) {
            els.error.textContent = explain(err);
            b.disabled = false;
          }
        });
        return b;
      }),
    );
  }

  // ---- messages ------------------------------------------------------------
  /** Adds or updates a message of the open conversation, in order. */
  function upsert(m) {
    if (!cur || m.conversation_id !== cur.id) return;
    const known = cur.nodes.get(m.id);
    if (known) {
      const i = cur.messages.findIndex((x) => x.id === m.id);
      if (i >= 0) cur.messages[i] = { ...cur.messages[i], ...m };
      const fresh = renderMessage(cur.messages[i] || m);
      known.replaceWith(fresh);
      cur.nodes.set(m.id, fresh);
      return;
    }
    const pendingNode = m.client_message_id && cur.pending.get(m.client_message_id);
    if (pendingNode) {
      pendingNode.remove();
      cur.pending.delete(m.client_message_id);
    }
    const nearBottom = isNearBottom();
    let i = cur.messages.length;
    while (i > 0 && compareMessages(cur.messages[i - 1], m) > 0) i--;
    cur.messages.splice(i, 0, m);
    const node = renderMessage(m);
    cur.nodes.set(m.id, node);
    const next = cur.messages[i + 1];
    const before = next ? cur.nodes.get(next.id) : null;
    els.list.insertBefore(node, before || firstPending());
    if (m.action_data) refreshCards();
    if (i === cur.messages.length - 1 && (nearBottom || m.sender_id === me().id)) scrollToBottom();
  }

  function firstPending() {
    return cur.pending.size ? cur.pending.values().next().value : null;
  }

  function liveCardId() {
    for (let i = cur.messages.length - 1; i >= 0; i--) {
      const m = cur.messages[i];
      if (m.action_required && m.action_data) return m.id;
    }
    return null;
  }

  function isLive(m) {
    const c = cur.context || {};
    if (!m.action_required || m.action_completed || c.chat_status === "closed") return false;
    if (m.id !== liveCardId()) return false;
    return !m.action_data.flow_state || !c.flow_state || m.action_data.flow_state === c.flow_state;
  }

  /** Re-renders every card: which one is live depends on the newest state. */
  function refreshCards() {
    if (!cur) return;
    for (const m of cur.messages) {
      if (!m.action_data) continue;
      const node = cur.nodes.get(m.id);
      const fresh = renderMessage(m);
      if (node?.querySelector("[aria-busy]")) continue;
      if (node && node.dataset.live === fresh.dataset.live && node.dataset.rendered === fresh.dataset.rendered) continue;
      node?.replaceWith(fresh);
      cur.nodes.set(m.id, fresh);
    }
  }

  function senderName(m) {
    if (m.sender_id === me().id) return "You";
    if (cur.other && m.sender_id === cur.other.id) return otherName();
    return SYSTEM_NAME;
  }

  function renderMessage(m) {
    const mine = m.sender_id === me().id;
    const chat = m.message_type === "user_input";
    const hasCard = m.action_data && typeof m.action_data === "object" && m.action_data.title;
    const live = hasCard && isLive(m);
    const li = h("li", {
      class: `msg ${chat ? (mine ? "msg-mine" : "msg-theirs") : "msg-notice"} msg-${m.message_type}`,
      dataset: { id: m.id, type: m.message_type, live: String(Boolean(live)), rendered: `${m.seen}|${m.action_completed}` },
    });
    const meta = h(
      "p",
      { class: "msg-meta" },
      h("span", { class: "msg-sender", text: senderName(m) }),
      " ",
      h("time", { datetime: m.created_at, text: shortTime(m.created_at) }),
    );
    if (m.message_type === "audit") meta.append(h("span", { class: "msg-private", text: " · only you see this" }));
    li.append(meta);
    if (m.message) li.append(h("p", { class: "msg-text", text: m.message }));
    if (m.media_url && /^https?:\/\//i.test(m.media_url)) {
      li.append(
        h("p", { class: "msg-media" }, h("a", { href: m.media_url, target: "_blank", rel: "noopener noreferrer", text: m.media_url })),
      );
    }
    if (hasCard) {
      li.append(
        renderCard(m, {
          role: me().role,
          live,
          doneText: m.action_completed || cur.context?.chat_status !== "closed" ? "Answered" : "Closed before an answer",
          sandbox: app.config()?.sandbox,
          onButton: (b) => act(b.id, b.data || {}),
          onSubmit: submitCard,
          onPay: (card) => pay(card, cur.id, app.config()),
          onDone: refreshCards,
        }),
      );
    }
    if (mine && chat) {
      li.append(
        h("p", {
          class: `msg-status ${m.seen ? "is-seen" : ""}`,
          dataset: { status: m.seen ? "seen" : "sent" },
          text: m.seen ? "✓✓ Seen" : "✓ Sent",
        }),
      );
    }
    return li;
  }

  function isNearBottom() {
    const s = els.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 120;
  }

  function scrollToBottom() {
    els.scroller.scrollTop = els.scroller.scrollHeight;
  }

  // ---- history -------------------------------------------------------------
  function renderHistoryStatus() {
    if (!cur) return;
    if (cur.loadingOlder) return fill(els.history, h("p", { text: "Loading earlier messages…" }));
    if (!cur.hasMore) {
      return fill(els.history, cur.messages.length ? h("p", { class: "hint", text: "Start of the conversation" }) : null);
    }
    const b = h("button", { type: "button", class: "btn btn-small btn-secondary", text: "Load earlier messages" });
    b.addEventListener("click", loadOlder);
    fill(els.history, b);
  }

  async function loadOlder() {
    if (!cur || cur.loadingOlder || !cur.hasMore || !cur.messages.length) return;
    const view = cur;
    view.loadingOlder = true;
    renderHistoryStatus();
    const s = els.scroller;
    try {
      const oldest = view.messages[0].id;
      const res = await api("GET", `/api/messages/conversations/${view.id}/messages?limit=${PAGE}&before=${oldest}`);
      if (cur !== view) return;
      const fromBottom = s.scrollHeight - s.scrollTop;
      view.hasMore = res.pagination?.has_more ?? false;
      res.messages.forEach(upsert);
      s.scrollTop = s.scrollHeight - fromBottom;
    } catch (err) {
      els.error.textContent = explain(err);
    } finally {
      view.loadingOlder = false;
      renderHistoryStatus();
    }
  }

  els.scroller.addEventListener("scroll", () => {
    if (els.scroller.scrollTop < 80) loadOlder();
  });

  /** After a reconnect: rejoin, then fetch what was sent meanwhile. */
  async function resync() {
    if (!cur) return;
    const view = cur;
    try {
      await join();
      const last = [...view.messages].reverse().find((m) => m.id);
      if (!last) {
        const hist = await api("GET", `/api/messages/conversations/${view.id}/messages?limit=${PAGE}`);
        if (cur === view) hist.messages.forEach(upsert);
      } else {
        let after = last.id;
        for (let round = 0; round < 20 && cur === view; round++) {
          const ack = await emit(app.socket(), "sync_messages", { conversationId: view.id, after });
          ack.messages.forEach(upsert);
          if (!ack.has_more || !ack.messages.length) break;
          after = ack.messages[ack.messages.length - 1].id;
        }
      }
      await refreshContext();
      markSeen();
    } catch (err) {
      if (cur === view) els.error.textContent = explain(err);
    }
  }

  // ---- actions -------------------------------------------------------------
  /** A flow action by button id; applies the ack's conversation and messages. */
  async function act(buttonId, data) {
    const view = cur;
    const ack = await emit(app.socket(), "button_action", {
      conversationId: view.id,
      button_id: buttonId,
      additional_data: data,
    });
    afterAction(view, ack);
  }

  async function submitCard(card, values) {
    const view = cur;
    const ids = Object.keys(values);
    const single = !card.input_fields && card.input_field && ids.length === 1;
    const ack = single
      ? await emit(app.socket(), "text_input", {
          conversationId: view.id,
          input_type: card.submit_action,
          text: String(values[ids[0]]),
        })
      : await emit(app.socket(), "button_action", {
          conversationId: view.id,
          button_id: card.submit_action,
          additional_data: values,
        });
    afterAction(view, ack);
  }

  function afterAction(view, ack) {
    if (cur !== view) return;
    (ack.messages || []).forEach(upsert);
    if (ack.conversation) {
      const c = ack.conversation;
      applyContext({
        id: c.id,
        conversation_type: c.conversation_type,
        chat_status: c.chat_status,
        flow_state: c.flow_state,
        awaiting_role: c.awaiting_role,
        current_action_data: c.current_action_data,
      });
    }
    refreshContext();
  }

  // ---- composer ------------------------------------------------------------
  function updateComposer() {
    const c = cur?.context || {};
    const closed = c.chat_status === "closed";
    els.input.disabled = closed;
    els.form.querySelector("button[type=submit]").disabled = closed;
    els.input.placeholder = closed
      ? "This conversation is closed"
      : c.chat_status === "automated"
        ? "Free chat opens after the work is approved"
        : "Write a message";
  }

  function newClientId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function send(text) {
    const view = cur;
    const clientMessageId = newClientId();
    const pendingNode = h(
      "li",
      { class: "msg msg-mine msg-pending", dataset: { pending: clientMessageId } },
      h("p", { class: "msg-meta", text: "You · sending…" }),
      h("p", { class: "msg-text", text }),
    );
    view.pending.set(clientMessageId, pendingNode);
    els.list.append(pendingNode);
    scrollToBottom();
    els.error.textContent = "";
    try {
      let message;
      if (connected()) {
        ({ message } = await emit(app.socket(), "send_message", { conversationId: view.id, message: text, clientMessageId }));
      } else {
        ({ message } = await api("POST", "/api/messages/send", {
          conversation_id: view.id,
          message: text,
          client_message_id: clientMessageId,
        }));
      }
      if (cur === view) upsert(message);
    } catch (err) {
      pendingNode.remove();
      view.pending.delete(clientMessageId);
      if (cur !== view) return;
      if (!els.input.value) els.input.value = text;
      els.error.textContent = explain(err);
    }
  }

  els.form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = els.input.value.trim();
    if (!cur || !text) return;
    els.input.value = "";
    stopTyping();
    send(text);
  });

  els.input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      els.form.requestSubmit();
    }
  });

  els.input.addEventListener("input", () => {
    if (!cur || !connected()) return;
    if (els.input.value.trim() && !cur.typingSent) {
      cur.typingSent = true;
      app.socket().emit("typing_start", { conversationId: cur.id }, () => {});
    }
    clearTimeout(cur.typingTimer);
    cur.typingTimer = setTimeout(stopTyping, 3000);
    if (!els.input.value.trim()) stopTyping();
  });
  els.input.addEventListener("blur", () => stopTyping());

  function stopTyping() {
    if (!cur) return;
    clearTimeout(cur.typingTimer);
    if (cur.typingSent && connected()) app.socket().emit("typing_stop", { conversationId: cur.id }, () => {});
    cur.typingSent = false;
  }

  // ---- seen ------------------------------------------------------------------
  /** Marks everything addressed to me as seen, when the page is visible. */
  function markSeen() {
    if (!cur || document.visibilityState !== "visible") return;
    const mine = me().id;
    const unseen = cur.messages.filter((m) => m.receiver_id === mine && m.sender_id !== mine && !m.seen);
    if (!unseen.length) return;
    const newest = unseen[unseen.length - 1];
    unseen.forEach((m) => (m.seen = true));
    const id = cur.id;
    const done = connected()
      ? emit(app.socket(), "mark_seen", { messageId: newest.id, conversationId: id })
      : api("POST", `/api/messages/conversations/${id}/seen`);
    done.catch(() => unseen.forEach((m) => (m.seen = false)));
  }

  document.addEventListener("visibilitychange", markSeen);
  window.addEventListener("focus", markSeen);

  // ---- socket events ---------------------------------------------------------
  function capital(s) {
    return s ? s[0].toUpperCase() + s.slice(1) : s;
  }

  function applyPresence(state, replace) {
    if (replace) cur.present = new Set();
    for (const id of Object.keys(state)) cur.present.add(id);
    renderPresence();
  }

  return {
    open,
    close,
    resync,
    currentId: () => cur?.id || null,
    onNewMessage(data) {
      if (!cur || data.conversation_id !== cur.id) return;
      const m = data.message;
      upsert(m);
      if (data.conversation_context) applyContext(data.conversation_context);
      if (m.sender_id === cur.other?.id) {
        els.typing.textContent = "";
        markSeen();
      }
    },
    onStateChanged(data) {
      if (!cur || data.conversation_id !== cur.id) return;
      applyContext({
        flow_state: data.new_state,
        awaiting_role: data.awaiting_role,
        chat_status: data.chat_status,
        current_action_data: data.current_action_data,
      });
      refreshContext();
    },
    onContext(conversationId, context) {
      if (cur && conversationId === cur.id && context) applyContext(context);
    },
    onTyping(data) {
      if (!cur || data.conversationId !== cur.id || data.userId === me().id) return;
      clearTimeout(cur.typingClear);
      if (data.isTyping) {
        els.typing.textContent = `${otherName()} is typing…`;
        cur.typingClear = setTimeout(() => (els.typing.textContent = ""), 10000);
      } else {
        els.typing.textContent = "";
      }
    },
    onSeen(data) {
      if (!cur || data.conversationId !== cur.id || data.userId === me().id) return;
      const ref = cur.messages.find((m) => m.id === data.messageId) || { id: data.messageId, created_at: "\uffff" };
      for (const m of cur.messages) {
        if (m.sender_id === me().id && m.receiver_id === data.userId && !m.seen && compareMessages(m, ref) <= 0) {
          m.seen = true;
          m.seen_at = data.seen_at;
          upsert(m);
        }
      }
    },
    onPresenceState(state) {
      if (cur) applyPresence(state, true);
    },
    onPresenceDiff(diff) {
      if (!cur) return;
      for (const id of Object.keys(diff.joins || {})) cur.present.add(id);
      for (const id of Object.keys(diff.leaves || {})) cur.present.delete(id);
      renderPresence();
    },
    onUserStatus(userId, status, lastSeen) {
      if (!cur?.other || cur.other.id !== userId) return;
      cur.otherStatus = status === "offline" ? null : status;
      cur.other.is_online = status !== "offline";
      if (lastSeen) cur.other.last_seen = lastSeen;
      if (status === "offline") cur.present.delete(userId);
      renderPresence();
    },
    showError(text) {
      els.error.textContent = text;
    },
  };
}
