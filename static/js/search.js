// Searching the viewer's messages (GET /api/messages/search): results in
// place of the conversation list while the box holds a query, each with its
// conversation and the matched words marked; a click opens the conversation
// at that message. The server's `highlight` is escaped HTML whose only tags
// are <mark>: it is split on those and every piece goes in as text, so
// nothing else in it can ever become markup.

import { api, explain } from "./api.js";
import { $, debounce, fill, h, shortTime } from "./dom.js";

const MIN = 2;
const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Undoes HTML escaping: named entities above and numeric ones. */
function unescapeHtml(text) {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (all, name) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : all;
    }
    return ENTITIES[name.toLowerCase()] ?? all;
  });
}

/** Nodes for a `highlight`: text, with <mark> elements for the matched words. */
export function highlightNodes(highlight) {
  const out = [];
  let marked = false;
  for (const part of String(highlight || "").split(/(<mark>|<\/mark>)/)) {
    if (part === "<mark>") marked = true;
    else if (part === "</mark>") marked = false;
    else if (part) out.push(marked ? h("mark", { text: unescapeHtml(part) }) : unescapeHtml(part));
  }
  return out;
}

/**
 * @param {object} app  me(), conversation(id) (the list's row, if any),
 *                      openConversation(id, {message})
 */
export function createSearch(app) {
  const form = $("#search-form");
  const input = $("#search-input");
  const view = $("#search-view");
  const status = $("#search-status");
  const results = $("#search-results");
  const hide = ["#conversation-list", "#conversation-empty", ".filters"].map((s) => $(s));
  let asked = 0; // answers to older queries are dropped

  function showing(on) {
    view.hidden = !on;
    for (const el of hide) el.classList.toggle("is-searching", on);
    document.body.dataset.searching = String(on);
  }

  function title(r) {
    const c = app.conversation(r.conversation_id);
    const name = r.other_user?.name || r.other_user?.id || "Unknown";
    const topic = c?.flow_data?.source?.title || c?.context?.title;
    return r.conversation_type === "direct" || !topic ? name : topic;
  }

  function item(r) {
    const m = r.message;
    const who = m.sender_id === app.me().id ? "You: " : "";
    const button = h(
      "button",
      { type: "button", class: "search-result", dataset: { conversationId: r.conversation_id, messageId: m.id } },
      h(
        "span",
        { class: "conversation-top" },
        h("span", { class: "conversation-name", text: title(r) }),
        h("time", { class: "conversation-time", datetime: m.created_at, text: shortTime(m.created_at) }),
      ),
      h("span", { class: "search-snippet" }, who, highlightNodes(r.highlight)),
    );
    button.addEventListener("click", () => app.openConversation(r.conversation_id, { message: m.id }));
    return h("li", {}, button);
  }

  async function run() {
    const q = input.value.trim();
    const ticket = ++asked;
    if (q.length < MIN) {
      showing(false);
      fill(results);
      return;
    }
    showing(true);
    status.textContent = "Searching…";
    try {
      const res = await api("GET", `/api/messages/search?q=${encodeURIComponent(q)}&limit=20`);
      if (ticket !== asked) return;
      const total = res.pagination?.total ?? res.results.length;
      status.textContent = !total
        ? `No messages match “${q}”.`
        : `${total} message${total === 1 ? " matches" : "s match"} “${q}”${total > res.results.length ? `; the best ${res.results.length} are shown` : ""}.`;
      fill(results, res.results.map(item));
    } catch (err) {
      if (ticket !== asked) return;
      status.textContent = explain(err);
      fill(results);
    }
  }
  const runSoon = debounce(run, 250);

  input.addEventListener("input", runSoon);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && input.value) {
      ev.preventDefault();
      input.value = "";
      run();
    }
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    run();
  });

  return {
    clear() {
      input.value = "";
      asked++;
      showing(false);
      fill(results);
    },
  };
}
