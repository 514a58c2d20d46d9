// The admin page: the flag queue with its actions, the analytics as charts
// (Chart.js, served by Parley from static/node_modules), webhook deliveries
// and the audit log. User text is only ever set as textContent.

const $ = (sel) => document.querySelector(sel);
const TOKEN_KEY = "parley-admin-token";
const charts = {};
let token = sessionStorage.getItem(TOKEN_KEY);

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok || data.success === false) {
    const err = new Error(data.message || `HTTP ${res.status}`);
    err.code = data.error_code;
    throw err;
  }
  return data;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c != null) node.append(c);
  return node;
}

const when = (t) => (t ? new Date(t).toLocaleString() : "—");
const who = (u) => (u === "system" ? "system" : u?.name ? `${u.name} (${u.id})` : u?.id || "?");

async function signIn(candidate) {
  token = candidate.trim();
  try {
    await api("GET", "/api/admin/flags?limit=1");
  } catch (e) {
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    $("#admin-signin-error").textContent =
      e.code === "FORBIDDEN" ? "This token is not an administrator's: access refused." : `Sign-in failed: ${e.message}`;
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $("#admin-signin").hidden = true;
  $("#admin-app").hidden = false;
  $("#admin-sign-out").hidden = false;
  await Promise.all([loadFlags(), loadAnalytics(), loadDeliveries(), loadAudit()]);
}

function signOut() {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  $("#admin-app").hidden = true;
  $("#admin-sign-out").hidden = true;
  $("#admin-signin").hidden = false;
}

async function resolve(flag, action) {
  try {
    await api("POST", `/api/admin/flags/${flag.id}/resolve`, { action });
  } catch (e) {
    alert(`Could not ${action.replace("_", " ")}: ${e.message}`);
  }
  await Promise.all([loadFlags(), loadAudit()]);
}

function flagItem(f) {
  const target = f.target || {};
  const m = target.message;
  const body = [];
  if (m) {
    body.push(el("blockquote", { text: m.message || "(deleted)" }));
    if (m.original_message && m.original_message !== m.message) {
      body.push(el("div", { class: "original", text: `Original: ${m.original_message}` }));
    }
    if (m.edit_history?.length) {
      body.push(el("div", { class: "meta", text: `Earlier texts: ${m.edit_history.map((e) => e.message).join(" | ")}` }));
    }
    const ctx = el("ol", { class: "context" });
    for (const c of f.context || []) ctx.append(el("li", { text: `${c.sender_id}: ${c.message}` }));
    // The flagged message sits between the messages before and after it (ids are time-ordered).
    const before = (f.context || []).filter((c) => c.id < m.id).length;
    ctx.insertBefore(el("li", { class: "flagged", text: `${m.sender_id}: ${m.message}` }), ctx.children[before] || null);
    body.push(el("details", {}, el("summary", { text: "Context" }), ctx));
  }
  const actions = el("div", { class: "actions" });
  if (f.status === "open") {
    actions.append(el("button", { type: "button", text: "Dismiss", onclick: () => resolve(f, "dismiss") }));
    if (m) actions.append(el("button", { type: "button", text: "Delete message", onclick: () => resolve(f, "delete_message") }));
    if (!target.user?.banned) actions.append(el("button", { type: "button", text: "Ban user", onclick: () => resolve(f, "ban_user") }));
  }
  const user = target.user;
  const heading = `${f.reason}${f.note ? ` — ${f.note}` : ""}`;
  const meta = `reported by ${who(f.reporter)} · about ${who(user)}${user?.banned ? " (banned)" : ""} · ${when(f.created_at)}${
    f.resolution ? ` · ${f.resolution} by ${f.resolved_by}` : ""
  }`;
  return el("li", { class: "flag", "data-flag-id": f.id }, el("strong", { text: heading }), el("div", { class: "meta", text: meta }), ...body, actions);
}

async function loadFlags() {
  const status = $("#flag-status").value;
  const { flags } = await api("GET", `/api/admin/flags?status=${status}&limit=50`);
  $("#flag-list").replaceChildren(...flags.map(flagItem));
  $("#flags-empty").hidden = flags.length > 0;
}

function draw(id, type, labels, datasets, options = {}) {
  charts[id]?.destroy();
  charts[id] = new Chart($(`#${id}`), {
    type,
    data: { labels, datasets },
    options: { animation: false, responsive: true, plugins: { legend: { display: datasets.length > 1 } }, ...options },
  });
}

async function loadAnalytics() {
  const from = $("#analytics-from").value;
  const to = $("#analytics-to").value;
  const q = new URLSearchParams();
  if (from) q.set("from", from);
  if (to) q.set("to", to);
  const a = await api("GET", `/api/admin/analytics?${q}`);
  if (!from) $("#analytics-from").value = a.from;
  if (!to) $("#analytics-to").value = a.to;
  const totals = [
    ["Messages", a.messages.total],
    ["Unique senders", a.messages.unique_senders],
    ["Conversations started", a.conversations.started],
    ["Reply time p50", a.response_time_ms.p50 == null ? "—" : `${Math.round(a.response_time_ms.p50 / 1000)} s`],
    ["Reply time p90", a.response_time_ms.p90 == null ? "—" : `${Math.round(a.response_time_ms.p90 / 1000)} s`],
    ["Paid (₹)", (a.payments.amount_paise / 100).toLocaleString("en-IN")],
  ];
  $("#analytics-totals").replaceChildren(...totals.map(([k, v]) => el("div", {}, el("dt", { text: k }), el("dd", { text: String(v) }))));
  const color = "#3b82f6";
  draw("chart-per-day", "line", a.messages.per_day.map((d) => d.date), [
    { label: "Messages", data: a.messages.per_day.map((d) => d.count), borderColor: color, backgroundColor: color, tension: 0.2 },
  ]);
  draw("chart-hours", "bar", [...Array(24).keys()].map((h) => `${h}`), [
    { label: "Messages", data: a.messages.peak_hours, backgroundColor: color },
  ]);
  const f = a.flow.funnel;
  draw("chart-funnel", "bar", ["Started", "Priced", "Paid", "Approved", "Closed early"], [
    { label: "Conversations", data: [f.started, f.priced, f.paid, f.approved, f.closed_early], backgroundColor: ["#3b82f6", "#6366f1", "#10b981", "#059669", "#ef4444"] },
  ], { indexAxis: "y" });
  draw("chart-payments", "bar", ["Completed", "Failed"], [
    { label: "Payments", data: [a.payments.completed, a.payments.failed], backgroundColor: ["#10b981", "#ef4444"] },
  ]);
}

async function loadDeliveries() {
  const { deliveries } = await api("GET", "/api/admin/webhooks/deliveries?limit=20");
  const rows = deliveries.map((d) =>
    el(
      "tr",
      {},
      el("td", { text: d.type }),
      el("td", { text: d.url }),
      el("td", { text: d.status }),
      el("td", { text: String(d.attempts) }),
      el("td", { text: d.last_status_code == null ? "—" : String(d.last_status_code) }),
      el("td", { text: when(d.created_at) }),
      el("td", {}, el("button", {
        type: "button",
        text: "Replay",
        onclick: async () => {
          await api("POST", `/api/admin/webhooks/deliveries/${d.id}/replay`);
          await Promise.all([loadDeliveries(), loadAudit()]);
        },
      })),
    ),
  );
  $("#deliveries tbody").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: "7", text: "No deliveries." }))]));
}

async function loadAudit() {
  const { entries } = await api("GET", "/api/admin/audit?limit=20");
  $("#audit-list").replaceChildren(
    ...entries.map((e) => el("li", { text: `${when(e.created_at)} · ${e.admin_id} · ${e.action} · ${e.target.type} ${e.target.id}` })),
  );
}

$("#admin-signin-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  $("#admin-signin-error").textContent = "";
  signIn($("#admin-token").value);
});
$("#admin-sign-out").addEventListener("click", signOut);
$("#flags-refresh").addEventListener("click", loadFlags);
$("#flag-status").addEventListener("change", loadFlags);
$("#analytics-range").addEventListener("submit", (ev) => {
  ev.preventDefault();
  loadAnalytics().catch((e) => alert(e.message));
});
if (typeof Chart === "undefined") {
  $("#admin-signin-error").textContent = "Chart.js is not installed next to this page. Run `npm ci --prefix static` and reload.";
}
if (token) signIn(token);
