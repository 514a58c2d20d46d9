// The open conversation's history: the first page, older pages on scroll
// (REST `before=<oldest id>`, keeping the view where it was), and catching up
// after a reconnect (`sync_messages` with `after=<newest id>`, then the latest
// page again for edits, deletes and reactions missed meanwhile).

import { api, emit, explain } from "./api.js";
import { $, compareMessages, fill, h } from "./dom.js";

export const PAGE = 30;

/**
 * @param {object} pane  view(), socket(), draw(), upsert(...messages), join(),
 *                       refreshContext(), markSeen(), showError(text)
 */
export function createHistory(pane) {
  const status = $("#history-status");
  const scroller = $("#messages");

  function renderStatus() {
    const view = pane.view();
    if (!view) return;
    if (view.loadingOlder) return fill(status, h("p", { text: "Loading earlier messages…" }));
    if (!view.hasMore) {
      return fill(status, view.messages.length ? h("p", { class: "hint", text: "Start of the conversation" }) : null);
    }
    const b = h("button", { type: "button", class: "btn btn-small btn-secondary", text: "Load earlier messages" });
    b.addEventListener("click", loadOlder);
    fill(status, b);
  }

  /** Loads the page before the oldest loaded message; a call while one loads waits for it. */
  function loadOlder() {
    const view = pane.view();
    if (!view) return Promise.resolve();
    if (view.loadingOlder) return view.loadingOlder;
    if (!view.hasMore || !view.messages.length) return Promise.resolve();
    view.loadingOlder = fetchOlder(view);
    renderStatus();
    return view.loadingOlder;
  }

  async function fetchOlder(view) {
    try {
      const oldest = view.messages[0].id;
      const res = await api("GET", `/api/messages/conversations/${view.id}/messages?limit=${PAGE}&before=${oldest}`);
      if (pane.view() !== view) return;
      const fromBottom = scroller.scrollHeight - scroller.scrollTop;
      view.hasMore = res.pagination?.has_more ?? false;
      const known = new Set(view.messages.map((m) => m.id));
      view.messages = [...res.messages.filter((m) => !known.has(m.id)), ...view.messages].sort(compareMessages);
      pane.draw();
      scroller.scrollTop = scroller.scrollHeight - fromBottom;
    } catch (err) {
      pane.showError(explain(err));
    } finally {
      view.loadingOlder = null;
      renderStatus();
    }
  }

  /** After a reconnect: rejoin, then fetch what was sent meanwhile. */
  async function resync() {
    const view = pane.view();
    if (!view) return;
    try {
      await pane.join();
      const last = view.messages[view.messages.length - 1];
      if (!last) {
        const hist = await api("GET", `/api/messages/conversations/${view.id}/messages?limit=${PAGE}`);
        if (pane.view() === view) pane.upsert(...hist.messages);
      } else {
        let after = last.id;
        for (let round = 0; round < 20 && pane.view() === view; round++) {
          const ack = await emit(pane.socket(), "sync_messages", { conversationId: view.id, after });
          pane.upsert(...ack.messages);
          if (!ack.has_more || !ack.messages.length) break;
          after = ack.messages[ack.messages.length - 1].id;
        }
        // Edits, deletes and reactions to messages already here come only as events: the
        // latest page again shows those made while this page was away.
        const hist = await api("GET", `/api/messages/conversations/${view.id}/messages?limit=${PAGE}`);
        if (pane.view() === view) pane.upsert(...hist.messages);
      }
      await pane.refreshContext();
      pane.markSeen();
    } catch (err) {
      if (pane.view() === view) pane.showError(explain(err));
    }
  }

  return { renderStatus, loadOlder, resync, clear: () => fill(status) };
}
