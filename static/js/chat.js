// The message pane: history (older pages load on scroll with the REST
// `before=` cursor), live messages, cards, typing, seen ticks, presence,
// the jump-to-latest button, and catching up after a reconnect; edits,
// deletes and reactions as they happen (message-ops.js does them). Drawing
// is in timeline.js, the composer in composer.js.

import { api, emit, explain } from "./api.js";
import { createActions } from "./chat-actions.js";
import { createHistory, PAGE } from "./chat-history.js";
import { createScroller } from "./chat-scroll.js";
import { createComposer } from "./composer.js";
import { createHeader } from "./chat-header.js";
import { createMessageOps } from "./message-ops.js";
import { createTimeRules } from "./time-rules.js";
import { $, compareMessages } from "./dom.js";
import { lockReason } from "./flow.js";
import { pay } from "./payments.js";
import { createTimeline } from "./timeline.js";

export function createChat(app) {
  const els = {
    empty: $("#chat-empty"),
    main: $("#chat-main"),
    scroller: $("#messages"),
    list: $("#message-list"),
    jump: $("#jump-latest"),
    typing: $("#typing"),
  };
  /** The open conversation, or null. */
  let cur = null;

  const me = () => app.me();
  const connected = () => app.socket()?.connected;
  const otherName = () => cur?.other?.name || cur?.other?.id || "";

  const composer = createComposer({
    userId: () => me()?.id,
    onSend: (text, mode) => (mode?.kind === "edit" ? ops.saveEdit(mode.message, text) : actions.send(text, mode)),
    onTyping: (typing) => (typing ? actions.startTyping() : actions.stopTyping()),
    onDraft: (id) => app.onDraft?.(id),
  });
  const actions = createActions({
    view: () => cur,
    socket: () => app.socket(),
    connected,
    upsert: (...messages) => upsert(...messages),
    applyContext: (context) => applyContext(context),
    refreshContext: () => refreshContext(),
    addPending(view, clientId, text) {
      view.pending.set(clientId, timeline.pendingNode(text));
      draw();
      scrollToBottom();
    },
    dropPending(view, clientId) {
      view.pending.get(clientId)?.remove();
      view.pending.delete(clientId);
    },
    composer,
  });
  const { act, submitCard, stopTyping } = actions;
  const timeRules = createTimeRules({
    view: () => cur,
    upsert: (m) => upsert(m),
    onError: (text) => composer.showError(text),
  });

  const ops = createMessageOps({
    view: () => cur,
    me,
    socket: () => app.socket(),
    connected,
    patch: (id, fields) => patch(id, fields),
    redraw: () => draw(),
    composer,
    nameOf: (id) => timeline.nameOf(id),
  });

  const timeline = createTimeline(els.list, {
    me,
    other: () => cur?.other || null,
    isLive,
    doneText: (m) => (m.action_completed || cur?.context?.chat_status !== "closed" ? "Answered" : "Closed before an answer"),
    cardActions: {
      sandbox: () => app.config()?.sandbox,
      onButton: (b) => act(b.id, b.data || {}),
      onSubmit: submitCard,
      onPay: (card) => pay(card, cur.id, app.config()),
      onDone: () => draw(),
    },
    ops,
    onQuote: (id) => reveal(id, { loadOlder: false }),
  });

  // ---- opening and closing ---------------------------------------------
  async function open(id) {
    if (cur?.id === id) return;
    close();
    const view = {
      id,
      messages: [],
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
      newBelow: 0,
    };
    cur = view;
    els.empty.hidden = true;
    els.main.hidden = false;
    els.main.dataset.conversationId = id;
    header.loading();
    timeline.clear();
    past.clear();
    els.typing.textContent = "";
    composer.attach(id);
    composer.setLock({ text: "Loading the conversation…" });
    updateJump();
    try {
      const [ctx, hist] = await Promise.all([
        api("GET", `/api/messages/conversations/${id}/context`),
        api("GET", `/api/messages/conversations/${id}/messages?limit=${PAGE}`),
      ]);
      if (cur !== view) return;
      applyContextResponse(ctx);
      view.hasMore = hist.pagination?.has_more ?? false;
      // Live messages may have arrived while the page was loading: keep them too.
      const byId = new Map(view.messages.map((m) => [m.id, m]));
      for (const m of hist.messages) byId.set(m.id, { ...byId.get(m.id), ...m });
      view.messages = [...byId.values()].sort(compareMessages);
      const firstUnread = view.messages.find((m) => addressedToMe(m) && !m.seen);
      timeline.markBefore(firstUnread?.id ?? null);
      draw();
      renderHistoryStatus();
      scrollToStart();
      await join();
      markSeen();
    } catch (err) {
      if (cur !== view) return;
      header.failed();
      composer.setLock({ text: explain(err) });
    }
  }

  function close() {
    if (!cur) return;
    stopTyping();
    clearTimeout(cur.typingClear);
    const id = cur.id;
    composer.detach();
    cur = null;
    timeRules.show(null);
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
    cur.settings = {
      archived: ctx.archived ?? ctx.conversation?.archived ?? false,
      muted_until: ctx.muted_until ?? ctx.conversation?.muted_until ?? null,
    };
    timeRules.show(cur);
    applyContext(ctx.conversation_context);
  }

  function applyContext(context) {
    if (!cur) return;
    const changed = JSON.stringify(cur.context) !== JSON.stringify({ ...cur.context, ...context });
    cur.context = { ...cur.context, ...context };
    renderHeader();
    if (changed) draw();
    composer.setLock(lockReason(cur.context, me().role, otherName()));
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

  const header = createHeader({
    me,
    act: (id) => actions.act(id, {}),
    onError: (text) => composer.showError(text),
    onSettings: (settings) => app.onSettings?.(settings),
  });
  const renderHeader = () => header.render(cur);
  const renderPresence = () => header.presence(cur);

  // ---- messages ------------------------------------------------------------
  function addressedToMe(m) {
    return m.receiver_id === me().id && m.sender_id !== me().id && m.message_type !== "audit";
  }

  /** Adds or updates messages of the open conversation, in order, and redraws. */
  function upsert(...messages) {
    if (!cur) return;
    const nearBottom = isNearBottom();
    let follow = false; // whether to scroll to the end once drawn
    for (const m of messages) {
      if (m.conversation_id !== cur.id) continue;
      const i = cur.messages.findIndex((x) => x.id === m.id);
      if (i >= 0) {
        cur.messages[i] = { ...cur.messages[i], ...m };
        continue;
      }
      if (m.client_message_id && cur.pending.has(m.client_message_id)) {
        cur.pending.get(m.client_message_id).remove();
        cur.pending.delete(m.client_message_id);
      }
      let at = cur.messages.length;
      while (at > 0 && compareMessages(cur.messages[at - 1], m) > 0) at--;
      cur.messages.splice(at, 0, m);
      if (at < cur.messages.length - 1) continue;
      if (m.sender_id === me().id || nearBottom) {
        follow = true;
      } else {
        // Out of sight: counted on the jump button, and the line marks where they start.
        cur.newBelow++;
        if (!timeline.hasMarker()) timeline.markBefore(m.id);
      }
    }
    draw();
    if (follow) scrollToBottom();
    else updateJump();
  }

  /** Merges `fields` into loaded message `id` (an edit, a delete, reactions); unknown ids are left alone. */
  function patch(id, fields) {
    if (!cur) return;
    const i = cur.messages.findIndex((x) => x.id === id);
    if (i < 0) return;
    const m = { ...cur.messages[i], ...fields };
    cur.messages[i] = m;
    // Replies quoting it follow, as the server keeps them: the text cut to 200, "" once deleted.
    const quoted = m.deleted_at ? "" : Array.from(m.message || "").slice(0, 200).join("");
    cur.messages = cur.messages.map((x) => (x.reply_to?.id === id ? { ...x, reply_to: { ...x.reply_to, message: quoted } } : x));
    composer.messageChanged(m);
    draw();
  }

  function draw() {
    if (!cur) return;
    timeline.render(cur.messages, [...cur.pending.values()]);
  }

  function liveCardId() {
    for (let i = cur.messages.length - 1; i >= 0; i--) {
      const m = cur.messages[i];
      if (m.action_required && m.action_data) return m.id;
    }
    return null;
  }

  function isLive(m) {
    const c = cur?.context || {};
    if (!m.action_required || m.action_completed || c.chat_status === "closed") return false;
    if (m.id !== liveCardId()) return false;
    return !m.action_data.flow_state || !c.flow_state || m.action_data.flow_state === c.flow_state;
  }

  // ---- history -------------------------------------------------------------
  const past = createHistory({
    view: () => cur,
    socket: () => app.socket(),
    draw: () => draw(),
    upsert: (...messages) => upsert(...messages),
    join: () => join(),
    refreshContext: () => refreshContext(),
    markSeen: () => markSeen(),
    showError: (text) => composer.showError(text),
  });
  const renderHistoryStatus = past.renderStatus;

  const scroll = createScroller({
    view: () => cur,
    marker: () => timeline.marker(),
    node: (id) => timeline.node(id),
    loadOlder: () => past.loadOlder(),
    focusComposer: () => composer.focus(),
    toast: (text) => app.toast(text),
  });
  const { isNearBottom, updateJump, reveal } = scroll;
  const scrollToBottom = scroll.toBottom;
  const scrollToStart = scroll.toStart;

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
  function applyPresence(state, replace) {
    if (replace) cur.present = new Set();
    for (const id of Object.keys(state)) cur.present.add(id);
    renderPresence();
  }

  return {
    open,
    close,
    resync: past.resync,
    composer,
    reveal,
    ...ops.events,
    /** `conversation_settings_updated` (from this tab or another of the viewer's). */
    onSettings(data) {
      if (!cur || data.conversation_id !== cur.id) return;
      cur.settings = { archived: data.archived, muted_until: data.muted_until };
      renderHeader();
    },
    currentId: () => cur?.id || null,
    onNewMessage(data) {
      if (!cur || data.conversation_id !== cur.id) return;
      const m = data.message;
      upsert(m);
      if (data.conversation_context) applyContext(data.conversation_context);
      if (m.sender_id === cur.other?.id) {
        // Their message brought the conversation back from the archive (the server sends no event for it).
        if (cur.settings?.archived) {
          cur.settings = { ...cur.settings, archived: false };
          renderHeader();
        }
        els.typing.textContent = "";
        markSeen();
      }
    },
    /** `message_expired`: those messages are gone for everyone. */
    onExpired(data) {
      if (!cur || data.conversation_id !== cur.id) return;
      const gone = new Set(data.message_ids || []);
      cur.messages = cur.messages.filter((m) => !gone.has(m.id));
      draw();
    },
    showQuota: (quota) => timeRules.showQuota(quota),
    loadQuota: () => timeRules.loadQuota(),
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
      const changed = [];
      for (const m of cur.messages) {
        if (m.sender_id === me().id && m.receiver_id === data.userId && !m.seen && compareMessages(m, ref) <= 0) {
          changed.push({ ...m, seen: true, seen_at: data.seen_at });
        }
      }
      if (changed.length) upsert(...changed);
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
    showError: (text) => composer.showError(text),
  };
}
