// Parley's demo client: the session, the Socket.IO connection and what each
// server event changes, navigation (tabs, routes, and on a phone the list or
// the conversation), alerts. The parts live in js/: the sign-in screen, the
// conversation list, the message pane, cards, the marketplace, the bell,
// message search.

import { api, explain, setToken } from "./js/api.js";
import { createBell } from "./js/bell.js";
import { createChat } from "./js/chat.js";
import { $, avatar, fill, roleLabel } from "./js/dom.js";
import { createList } from "./js/list.js";
import { createMarket } from "./js/market.js";
import { closeMenus, menu } from "./js/menu.js";
import { createSearch } from "./js/search.js";
import { setUpSignIn } from "./js/signin.js";
import { toast } from "./js/toast.js";

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
const PHONE = window.matchMedia("(max-width: 760px)");
const state = {
  session: null, // {token, me: {id, role, name}}
  config: null,
  socket: null,
  everConnected: false,
};

const app = {
  me: () => state.session?.me,
  socket: () => state.socket,
  config: () => state.config,
  toast: (text, conversationId) => toast(text, conversationId ? () => openConversation(conversationId) : null),
  openConversation,
  conversations: () => list.all(),
  onDraft: () => list.render(),
  onSettings: (settings) => onSettings(settings),
};
const chat = createChat(app);
const list = createList({
  me: app.me,
  currentId: () => chat.currentId(),
  draft: (id) => chat.composer.draft(id),
  openConversation,
});
const search = createSearch({
  me: app.me,
  conversation: (id) => list.get(id),
  openConversation,
});
const market = createMarket(app);
const bell = createBell(app);
const account = menu($("#account-button"), $("#account-panel"));

// ---- session -------------------------------------------------------------------
setUpSignIn(signIn);

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
  list.clear();
  search.clear();
  sessionStorage.removeItem(SESSION_KEY);
  setToken(null);
  chat.close();
  bell.reset();
  closeMenus();
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
  const name = me.name || me.id;
  $("#me-name").textContent = name;
  $("#me-role").textContent = roleLabel(me.role);
  $("#me-panel-name").textContent = name;
  $("#me-panel-role").textContent = roleLabel(me.role);
  $("#me-id").textContent = me.id;
  fill($("#me-avatar"), avatar(me));
  document.body.dataset.role = me.role || "";
  showPane("list");
  chat.composer.signIn();
  chat.loadQuota();
  market.init();
  bell.init();
  connect();
  list.load();
  route();
}

$("#copy-id").addEventListener("click", async (ev) => {
  try {
    await navigator.clipboard.writeText(state.session.me.id);
    ev.target.textContent = "Copied";
  } catch {
    ev.target.textContent = "Select the id to copy it";
  }
  setTimeout(() => (ev.target.textContent = "Copy id"), 2000);
});

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
    if (again) list.load();
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
    if (err.message === "banned") {
      signOut("This account is banned.");
      return;
    }
    setConnection(navigator.onLine ? "reconnecting" : "offline", navigator.onLine ? "Reconnecting…" : "Offline");
  });

  // An administrator banned this account: the server closes the socket next.
  socket.on("banned", (b) => {
    const until = b?.until ? ` until ${new Date(b.until).toLocaleString()}` : "";
    signOut(`This account is banned${until}: ${b?.reason || "no reason given"}.`);
  });
  socket.on("new_message", (data) => {
    chat.onNewMessage(data);
    list.noteActivity(data.conversation_id, data.message, data.conversation_context);
  });
  socket.on("conversation_state_changed", (data) => {
    chat.onStateChanged(data);
    list.noteState(data);
  });
  socket.on("button_action", (data) => chat.onContext(data.conversationId, data.conversation_context));
  socket.on("unread_count_updated", (data) => list.noteUnread(data));
  socket.on("user_typing", (data) => chat.onTyping(data));
  socket.on("message_seen", (data) => chat.onSeen(data));
  socket.on("presence_state", (data) => chat.onPresenceState(data));
  socket.on("presence_diff", (data) => chat.onPresenceDiff(data));
  socket.on("user_status_change", (data) => userStatus(data.userId, data.status));
  socket.on("user_offline", (data) => userStatus(data.userId, "offline", data.last_seen));
  socket.on("new_application", (data) => market.onApplication(data));
  socket.on("notification", onNotification);
  socket.on("message_expired", (data) => chat.onExpired(data));
  socket.on("message_updated", (data) => {
    chat.onMessageUpdated(data);
    if (data.message) list.noteMessage(data.conversation_id, data.message.id, data.message);
  });
  socket.on("message_deleted", (data) => {
    chat.onMessageDeleted(data);
    list.noteMessage(data.conversation_id, data.message_id, { message: "", media_url: null, deleted_at: data.deleted_at });
  });
  socket.on("reaction_updated", (data) => chat.onReactionUpdated(data));
  socket.on("conversation_settings_updated", onSettings);
  socket.on("quota_updated", (data) => chat.showQuota(data.quota || data));
  socket.on("notifications_updated", (data) => bell.onUpdated(data));
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

/** Archive or mute changed, from this tab's menu or as an event from any of the viewer's devices. */
function onSettings(settings) {
  chat.onSettings(settings);
  list.noteSettings(settings);
}

function userStatus(userId, status, lastSeen) {
  chat.onUserStatus(userId, status, lastSeen);
  list.noteUser(userId, status, lastSeen);
}

/** "Asha Rao in “Summer glow reel”", from what the list knows of a conversation. */
function where(id) {
  const c = id && list.get(id);
  if (!c) return null;
  const name = c.other_user?.name || c.other_user?.id;
  const topic = c.flow_data?.source?.title || c.context?.title;
  return topic ? `${name} in “${topic}”` : name;
}

async function onNotification(payload) {
  const { type, data } = payload;
  bell.onNotification(payload);
  const id = data?.conversation_id || payload.conversation_id;
  const open = id && chat.currentId() === id;
  const other = id && !open ? id : null;
  switch (type) {
    case "new_application": {
      const applied = await market.onApplication(data);
      const who = applied?.name || "a creator";
      app.toast(`New application from ${who}${applied?.title ? ` for “${applied.title}”` : ""}. See Marketplace.`);
      break;
    }
    case "payment_completed":
      app.toast(`Payment completed${where(id) ? ` (${where(id)})` : ""}.`, other);
      break;
    case "payment_failed":
      app.toast(`Payment failed${data.reason ? `: ${data.reason}` : ""}.`, other);
      break;
    case "conversation_closed":
      app.toast(`${where(id) ? `The conversation with ${where(id)}` : "A conversation"} was closed.`, other);
      break;
    case "action_required":
      if (!open) app.toast(`${where(id) || "A conversation"}: your turn.`, id);
      break;
    default:
      break; // new_message: the list shows it already.
  }
}

// ---- navigation: tabs, and on a phone the list or the conversation ----------------
function showPane(pane) {
  document.body.dataset.pane = pane;
}

/** Opens conversation `id`; with `message`, scrolled to that message (a search result). */
async function openConversation(id, { message } = {}) {
  selectTab("tab-conversations");
  const target = `#/c/${id}`;
  if (location.hash !== target) {
    // From the list a phone's Back returns to it; between conversations it replaces.
    if (location.hash.startsWith("#/c/")) history.replaceState(null, "", target);
    else history.pushState(null, "", target);
  }
  showPane("chat");
  const opening = chat.open(id);
  list.render();
  if (PHONE.matches) $("#chat-back").focus();
  await opening;
  if (message && chat.currentId() === id) await chat.reveal(message);
  if (!list.get(id)) list.reloadSoon();
}

function backToList() {
  const id = chat.currentId();
  chat.close();
  showPane("list");
  if (location.hash.startsWith("#/c/")) history.replaceState(null, "", location.pathname + location.search);
  list.render();
  if (id) list.focusRow(id);
}
$("#chat-back").addEventListener("click", backToList);

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
  tab.addEventListener("click", () => {
    selectTab(tab.id);
    showPane("list");
  });
  tab.addEventListener("keydown", (ev) => {
    const step = ev.key === "ArrowRight" ? 1 : ev.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    const next = tabs[(i + step + tabs.length) % tabs.length];
    selectTab(next.id);
    next.focus();
  });
});

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
    list.reloadSoon();
  } catch (err) {
    error.textContent = explain(err);
  }
});

// ---- routes: #/c/<conversation>, #/campaign/<id>, #/bid/<id> ------------------------
function route() {
  if (!state.session) return;
  const m = location.hash.match(/^#\/(c|campaign|bid)\/([^/?#]+)$/);
  if (!m) {
    if (chat.currentId()) backToList();
    return;
  }
  if (m[1] === "c") {
    if (chat.currentId() !== m[2]) openConversation(m[2]);
  } else {
    selectTab("tab-market");
    showPane("list");
    market.openSource(m[1], m[2]);
  }
}
window.addEventListener("hashchange", route);
window.addEventListener("popstate", route);

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
