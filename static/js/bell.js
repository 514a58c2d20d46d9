// The notification bell: the stored notifications of GET /api/notifications,
// their unread count, and marking them read (one, or all). A server without
// these routes answers 404, and the bell then stays hidden.

import { api } from "./api.js";
import { $, fill, h, shortTime } from "./dom.js";
import { menu } from "./menu.js";

const TITLES = {
  new_message: "New message",
  action_required: "Your turn",
  payment_completed: "Payment completed",
  payment_failed: "Payment failed",
  conversation_closed: "Conversation closed",
  new_application: "New application",
};

export function createBell(app) {
  const root = $("#bell");
  const button = $("#bell-button");
  const count = $("#bell-count");
  const list = $("#bell-list");
  const empty = $("#bell-empty");
  const readAll = $("#bell-read-all");
  const popup = menu(button, $("#bell-panel"));
  let items = new Map();
  let enabled = false;
  let generation = 0;

  function setUnread(n) {
    const unread = Number(n) || 0;
    count.hidden = !unread;
    count.textContent = unread > 99 ? "99+" : String(unread);
    button.setAttribute("aria-label", unread ? `Notifications, ${unread} unread` : "Notifications");
    readAll.disabled = !unread;
  }

  function render() {
    const sorted = [...items.values()].sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
    fill(list, sorted.map(row));
    empty.hidden = sorted.length > 0;
  }

  function row(n) {
    const b = h(
      "button",
      { type: "button", class: `bell-item ${n.read ? "" : "is-unread"}`.trim(), dataset: { id: n.id } },
      h("span", { class: "bell-item-title", text: n.title || TITLES[n.type] || "Notification" }),
      n.body ? h("span", { class: "bell-item-body", text: n.body }) : null,
      h("time", { datetime: n.created_at, text: shortTime(n.created_at) }),
    );
    b.addEventListener("click", () => {
      popup.close(false);
      if (!n.read) markRead(n.id);
      const conversation = n.conversation_id || n.data?.conversation_id;
      if (conversation) app.openConversation(conversation);
    });
    return h("li", {}, b);
  }

  async function markRead(id) {
    try {
      const res = await api("POST", `/api/notifications/${encodeURIComponent(id)}/read`);
      items.set(id, res.notification || { ...items.get(id), read: true });
      setUnread(res.unread_count);
      render();
    } catch {
      // Still unread; the next open shows it so.
    }
  }

  readAll.addEventListener("click", async () => {
    try {
      const res = await api("POST", "/api/notifications/mark-all-read");
      for (const n of items.values()) n.read = true;
      setUnread(res.unread_count);
      render();
    } catch {
      // Nothing changed.
    }
  });

  async function refreshCount() {
    try {
      setUnread((await api("GET", "/api/notifications/unread-count")).unread_count);
    } catch {
      // Keeps the last count.
    }
  }

  return {
    /** Loads the signed-in user's notifications; hides the bell without the routes. */
    async init() {
      const mine = ++generation;
      root.hidden = true;
      enabled = false;
      items = new Map();
      try {
        const res = await api("GET", "/api/notifications?limit=20");
        if (mine !== generation) return;
        for (const n of res.notifications || []) items.set(n.id, n);
        enabled = true;
        root.hidden = false;
        setUnread(res.unread_count);
        render();
      } catch {
        // 404: this server keeps no notifications. The bell stays hidden.
      }
    },
    reset() {
      generation++;
      enabled = false;
      root.hidden = true;
      popup.close(false);
    },
    /** A `notification` event: stored ones carry their row (a repeated id is an update). */
    onNotification(payload) {
      if (!enabled || !payload?.id) return;
      items.set(payload.id, { ...items.get(payload.id), ...payload });
      render();
      refreshCount();
    },
    /** `notifications_updated` from another device of the same user. */
    onUpdated({ ids = [], read, deleted, unread_count: unread }) {
      if (!enabled) return;
      for (const id of ids) {
        if (deleted) items.delete(id);
        else if (read !== undefined && items.has(id)) items.get(id).read = read;
      }
      if (unread !== undefined) setUnread(unread);
      render();
    },
  };
}
