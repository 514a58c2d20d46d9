// Parley's demo client: sign-in, the Socket.IO connection, the conversation
// list, notifications and navigation. The message pane lives in js/chat.js,
// cards in js/cards.js, campaigns and bids in js/market.js.

import { api, explain, setToken } from "./js/api.js";
import { createChat } from "./js/chat.js";
import { $, debounce, fill, h, humanState, roleLabel, shortTime } from "./js/dom.js";
import { createMarket } from "./js/market.js";

// The browser build of the official client, installed by `npm ci --prefix static`.
let io;
try {
  ({ io } = await import("./node_modules/socket.io-client/dist/socket.io.esm.min.js"));
} catch {
  const banner = $("#boot-error");
  banner.textContent =
    "socket.io-client is not installed next to this page. Run `npm ci --prefix static` in the repository and reload.";
  banner.hidden = false;
}

const SESSION_KEY = "parley.session";
const state = {
  session: null, // {token, me: {id, role, name}}
  config: null,
  socket: null,
  filter: "",
  conversations: new Map(),
  everConnected: false,
};

const app = {
  me: () => state.session?.me,
  socket: () => state.socket,
  config: () => state.config,
  toast,
  openConversation,
};
const chat = createChat(app);
const market = createMarket(app);

// ---- sign-in -----------------------------------------------------------------
function decodeClaims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(
      Array.from(atob(part), (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join(""),
    );
    return JSON.parse(json);
  } catch {
    return null;
  }
}

function slug(name) {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
}

$("#signin-name").addEventListener("input", (ev) => {
  const id = $("#signin-id");
  if (!id.dataset.touched) id.value = slug(ev.target.value);
});
$("#signin-id").addEventListener("input", (ev) => (ev.target.dataset.touched = "1"));

$("#demo-signin").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const error = $("#signin-error");
  error.textContent = "";
  const name = $("#signin-name").value.trim();
  const userId = $("#signin-id").value.trim() || slug(name);
  const role = new FormData(ev.target).get("role");
  if (!name || !userId) {
    error.textContent = "Pick a display name (the user id follows from it).";
    return;
  }
  try {
    const res = await api("POST", "/api/dev/token", { user_id: userId, role, name });
    await signIn(res.token, { id: res.user.id, role: res.user.role, name: res.user.name || name });
  } catch (err) {
    error.textContent =
      err.status === 404
        ? "Demo sign-in exists only on development servers. Paste a token instead."
        : explain(err);
  }
});

$("#token-signin").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const error = $("#signin-error");
  error.textContent = "";
  const token = $("#signin-token").value.trim().replace(/^Bearer\s+/i, "");
  const claims = decodeClaims(token);
  if (!claims) {
    error.textContent = "That does not look like a JWT (three base64url parts separated by dots).";
    return;
  }
  try {
    await signIn(token, { id: String(claims.id ?? claims.sub ?? ""), role: claims.role, name: claims.name });
  } catch (err) {
    error.textContent = explain(err);
  }
});

async function signIn(token, me) {
  setToken(token);
  // Checks the token before showing anything (a refused token throws here).
  const { config } = await api("GET", "/api/payments/config");
  state.config = config;
  state.session = { token, me };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(state.session));
  showApp();
}

function signOut(reason) {
  state.socket?.disconnect();
  state.socket = null;
  state.session = null;
  state.conversations.clear();
  sessionStorage.removeItem(SESSION_KEY);
  setToken(null);
  chat.close();
  $("#app-view").hidden = true;
  $("#whoami").hidden = true;
  $("#signin-view").hidden = false;
  $("#signin-error").textContent = reason || "";
  setConnection("idle", "Not connected");
  document.title = "Parley";
}
$("#sign-out").addEventListener("click", () => signOut());

function showApp() {
  const me = state.session.me;
  $("#signin-view").hidden = true;
  $("#app-view").hidden = false;
  $("#whoami").hidden = false;
  $("#me-name").textContent = me.name || me.id;
  $("#me-role").textContent = roleLabel(me.role);
  $("#me-id").textContent = me.id;
  document.body.dataset.role = me.role || "";
  market.init();
  connect();
  loadConversations();
  route();
}

// ---- the socket ----------------------------------------------------------------
function setConnection(kind, label) {
  const el = $("#connection");
  el.dataset.state = kind;
  $(".label", el).textContent = label;
}

function connect() {
  if (!io) return;
  state.everConnected = false;
  const socket = io({ auth: { token: state.session.token } });
  state.socket = socket;
  setConnection("connecting", "Connecting…");

  socket.on("connect", () => {
    setConnection("connected", "Connected");
    const again = state.everConnected;
    state.everConnected = true;
    market.rejoin();
    if (chat.currentId()) chat.resync();
    if (again) loadConversations();
  });
  socket.on("disconnect", (reason) => {
    if (!navigator.onLine) setConnection("offline", "Offline");
    else setConnection("reconnecting", "Reconnecting…");
    // A server-side disconnect is not retried by the client on its own.
    if (reason === "io server disconnect") socket.connect();
  });
  socket.on("connect_error", (err) => {
    if (err.message === "unauthorized") {
      signOut("The server refused the token (expired or invalid). Sign in again.");
      return;
    }
    setConnection(navigator.onLine ? "reconnecting" : "offline", navigator.onLine ? "Reconnecting…" : "Offline");
  });

  socket.on("new_message", (data) => {
    chat.onNewMessage(data);
    noteActivity(data.conversation_id, data.message, data.conversation_context);
  });
  socket.on("conversation_state_changed", (data) => {
    chat.onStateChanged(data);
    const c = state.conversations.get(data.conversation_id);
    if (c) {
      Object.assign(c, {
        flow_state: data.new_state,
        awaiting_role: data.awaiting_role,
        chat_status: data.chat_status,
      });
      renderList();
    }
  });
  socket.on("button_action", (data) => chat.onContext(data.conversationId, data.conversation_context));
  socket.on("unread_count_updated", (data) => {
    const c = state.conversations.get(data.conversation_id);
    if (c) c.unread_count = data.unread_count;
    setTotalUnread(data.total_unread);
    renderList();
  });
  socket.on("user_typing", (data) => chat.onTyping(data));
  socket.on("message_seen", (data) => chat.onSeen(data));
  socket.on("presence_state", (data) => chat.onPresenceState(data));
  socket.on("presence_diff", (data) => chat.onPresenceDiff(data));
  socket.on("user_status_change", (data) => userStatus(data.userId, data.status));
  socket.on("user_offline", (data) => userStatus(data.userId, "offline", data.last_seen));
  socket.on("new_application", (data) => market.onApplication(data));
  socket.on("notification", onNotification);
  socket.on("message_error", (data) => chat.showError(explain({ code: data.error_code, message: data.error, details: data.details })));
}

// The browser knows before the socket does; going offline stops the retries,
// coming back reconnects (and `connect` then catches up).
window.addEventListener("offline", () => {
  if (!state.socket) return;
  setConnection("offline", "Offline");
  state.socket.disconnect();
});
window.addEventListener("online", () => {
  if (!state.socket) return;
  setConnection("connecting", "Connecting…");
  state.socket.connect();
});
document.addEventListener("visibilitychange", () => {
  if (state.socket?.connected) {
    const status = document.visibilityState === "visible" ? "online" : "away";
    state.socket.emit("user_status", { status }, () => {});
  }
});

function userStatus(userId, status, lastSeen) {
  chat.onUserStatus(userId, status, lastSeen);
  let changed = false;
  for (const c of state.conversations.values()) {
    if (c.other_user?.id === userId) {
      c.other_user.is_online = status !== "offline";
      if (lastSeen) c.other_user.last_seen = lastSeen;
      changed = true;
    }
  }
  if (changed) renderList();
}

function onNotification({ type, data }) {
  const id = data?.conversation_id;
  const open = id && chat.currentId() === id;
  switch (type) {
    case "new_application":
      market.onApplication(data);
      toast(`New application from ${data.influencer_id}. See Marketplace.`);
      break;
    case "payment_completed":
      toast("Payment completed.", open ? null : id);
      break;
    case "payment_failed":
      toast(`Payment failed${data.reason ? `: ${data.reason}` : ""}.`, open ? null : id);
      break;
    case "conversation_closed":
      toast("A conversation was closed.", open ? null : id);
      break;
    case "action_required":
      if (!open) toast("A conversation needs your answer.", id);
      break;
    default:
      break; // new_message: the list shows it already.
  }
}

// ---- conversation list -----------------------------------------------------------
async function loadConversations() {
  const error = $("#conversation-error");
  try {
    const type = state.filter ? `&type=${state.filter}` : "";
    const res = await api("GET", `/api/messages/conversations?limit=100${type}`);
    state.conversations = new Map(res.conversations.map((c) => [c.id, c]));
    error.textContent = "";
    renderList();
    const unread = await api("GET", "/api/messages/unread-count");
    setTotalUnread(unread.unread_count);
  } catch (err) {
    error.textContent = explain(err);
  }
}
const reloadSoon = debounce(loadConversations, 250);

function noteActivity(conversationId, message, context) {
  const c = state.conversations.get(conversationId);
  if (!c) {
    if (!state.filter || context?.conversation_type === state.filter) reloadSoon();
    return;
  }
  c.last_message = message;
  c.last_message_at = message.created_at;
  if (context) Object.assign(c, { flow_state: context.flow_state, awaiting_role: context.awaiting_role, chat_status: context.chat_status });
  renderList();
}

function setTotalUnread(total) {
  const badge = $("#total-unread");
  badge.hidden = !total;
  badge.textContent = total ? `${total} unread` : "";
  document.title = total ? `(${total}) Parley` : "Parley";
}

function renderList() {
  const list = $("#conversation-list");
  const items = [...state.conversations.values()]
    .filter((c) => !state.filter || c.conversation_type === state.filter)
    .sort((a, b) => (a.last_message_at < b.last_message_at ? 1 : a.last_message_at > b.last_message_at ? -1 : 0));
  $("#conversation-empty").hidden = items.length > 0;
  const current = chat.currentId();
  fill(list, items.map((c) => listItem(c, c.id === current)));
}

function preview(m) {
  if (!m) return "No messages yet";
  if (m.action_data?.title) return `${m.action_data.title}${m.message ? ` · ${m.message}` : ""}`;
  return m.message || m.media_url || "";
}

function listItem(c, active) {
  const me = state.session.me;
  const other = c.other_user || {};
  const name = other.name || other.id || "Unknown";
  const yourTurn = c.awaiting_role && c.awaiting_role === me.role;
  const unread = c.unread_count || 0;
  const title = c.flow_data?.source?.title;
  const button = h(
    "button",
    {
      type: "button",
      class: "conversation",
      "aria-current": active ? "true" : null,
      "aria-label": `${name}, ${c.conversation_type}${unread ? `, ${unread} unread` : ""}${yourTurn ? ", your turn" : ""}`,
      dataset: { id: c.id },
    },
    h("span", { class: "presence", dataset: { status: other.is_online ? "online" : "offline" }, "aria-hidden": "true" }),
    h(
      "span",
      { class: "conversation-body" },
      h(
        "span",
        { class: "conversation-top" },
        h("span", { class: "conversation-name", text: name }),
        h("time", { class: "conversation-time", datetime: c.last_message_at, text: shortTime(c.last_message_at) }),
      ),
      h(
        "span",
        { class: "conversation-sub" },
        h("span", { class: `badge badge-${c.conversation_type}`, text: c.conversation_type }),
        title ? h("span", { class: "conversation-source", text: title }) : null,
        yourTurn ? h("span", { class: "badge badge-turn", text: "your turn" }) : null,
        c.conversation_type !== "direct" && !yourTurn && c.flow_state
          ? h("span", { class: "conversation-state", text: humanState(c.flow_state) })
          : null,
      ),
      h("span", { class: "conversation-last", text: preview(c.last_message) }),
    ),
    unread ? h("span", { class: "badge badge-unread", "aria-hidden": "true", text: String(unread) }) : null,
  );
  button.addEventListener("click", () => openConversation(c.id));
  return h("li", {}, button);
}

document.querySelectorAll("input[name=conv-filter]").forEach((radio) =>
  radio.addEventListener("change", () => {
    state.filter = radio.value;
    loadConversations();
  }),
);

async function openConversation(id) {
  selectTab("tab-conversations");
  if (location.hash !== `#/c/${id}`) history.replaceState(null, "", `#/c/${id}`);
  const opening = chat.open(id);
  renderList();
  await opening;
  if (!state.conversations.has(id)) reloadSoon();
}

// ---- direct conversations ----------------------------------------------------------
$("#direct-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const error = $("#direct-error");
  error.textContent = "";
  const target = $("#direct-user").value.trim();
  const first = $("#direct-message").value.trim();
  if (!target) {
    error.textContent = "Enter the other person's user id.";
    return;
  }
  try {
    const res = await api("POST", "/api/messages/direct-connect", {
      target_user_id: target,
      initial_message: first || undefined,
    });
    ev.target.reset();
    await openConversation(res.conversation.id);
    reloadSoon();
  } catch (err) {
    error.textContent = explain(err);
  }
});

// ---- tabs ------------------------------------------------------------------------
const tabs = [...document.querySelectorAll("[role=tab]")];
function selectTab(id) {
  for (const tab of tabs) {
    const on = tab.id === id;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`#${tab.getAttribute("aria-controls")}`).hidden = !on;
  }
}
tabs.forEach((tab, i) => {
  tab.addEventListener("click", () => selectTab(tab.id));
  tab.addEventListener("keydown", (ev) => {
    const step = ev.key === "ArrowRight" ? 1 : ev.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    const next = tabs[(i + step + tabs.length) % tabs.length];
    selectTab(next.id);
    next.focus();
  });
});

// ---- toasts ------------------------------------------------------------------------
function toast(text, conversationId) {
  const close = h("button", { type: "button", class: "toast-close", "aria-label": "Dismiss", text: "×" });
  const node = h("div", { class: "toast" }, h("p", { text }), close);
  if (conversationId) {
    const open = h("button", { type: "button", class: "btn btn-small btn-secondary", text: "Open" });
    open.addEventListener("click", () => {
      node.remove();
      openConversation(conversationId);
    });
    node.insertBefore(open, close);
  }
  close.addEventListener("click", () => node.remove());
  const shelf = $("#toasts");
  shelf.append(node);
  while (shelf.children.length > 3) shelf.firstElementChild.remove();
  setTimeout(() => node.remove(), 6000);
}

// ---- routes: #/c/<conversation>, #/campaign/<id>, #/bid/<id> ------------------------
function route() {
  if (!state.session) return;
  const m = location.hash.match(/^#\/(c|campaign|bid)\/([^/?#]+)$/);
  if (!m) return;
  if (m[1] === "c") {
    if (chat.currentId() !== m[2]) openConversation(m[2]);
  } else {
    selectTab("tab-market");
    market.openSource(m[1], m[2]);
  }
}
window.addEventListener("hashchange", route);

// ---- start ---------------------------------------------------------------------------
(async function start() {
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
  } catch {
    saved = null;
  }
  if (saved?.token) {
    try {
      await signIn(saved.token, saved.me);
      return;
    } catch (err) {
      signOut(explain(err));
      return;
    }
  }
  signOut();
})();
