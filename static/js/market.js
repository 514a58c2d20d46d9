// Campaigns and bids: brand owners create them, see who applied and open a
// conversation with an applicant; creators open one by id or link and apply.

import { api, emit, explain } from "./api.js";
import { createApplicants } from "./applicants.js";
import { $, field, fill, h, rupees } from "./dom.js";

export function createMarket(app) {
  const panel = $("#panel-market");
  /** `${kind}:${id}` → {kind, data, node} for the brand owner's own items. */
  const own = new Map();
  let ownList = null;
  let ownEmpty = null;
  let detail = null;
  const applicants = createApplicants(app);

  const me = () => app.me();
  const storageKey = () => `parley.sources.${me().id}`;
  const appliedKey = () => `parley.applied.${me().id}`;
  /** The campaign or bid being fetched for display: {key, done}. */
  let opening = null;
  /** Counts display requests, so that only the latest one renders. */
  let requested = 0;

  function budgetText(kind, d) {
    if (kind === "campaign") return `Budget ${rupees(d.budget)}`;
    if (d.min_budget != null && d.max_budget != null) return `Budget ${rupees(d.min_budget)} – ${rupees(d.max_budget)}`;
    if (d.max_budget != null) return `Budget up to ${rupees(d.max_budget)}`;
    if (d.min_budget != null) return `Budget from ${rupees(d.min_budget)}`;
    return "Budget open";
  }

  function linkFor(kind, id) {
    return `${location.origin}${location.pathname}#/${kind}/${id}`;
  }

  function amount(value) {
    const s = String(value ?? "").trim();
    return s === "" ? undefined : Number(s);
  }

  // ---- layout per role --------------------------------------------------------
  function init() {
    own.clear();
    fill(panel, h("h2", { class: "panel-title", text: "Marketplace" }));
    if (me().role === "brand_owner") {
      ownList = h("ul", { class: "source-list", "aria-label": "Your campaigns and bids" });
      ownEmpty = h("p", { class: "hint", text: "Nothing yet: create a bid or a campaign below." });
      panel.append(h("h3", { class: "section-title", text: "Your campaigns and bids" }), ownEmpty, ownList);
      panel.append(createForm("campaign"), createForm("bid"));
      restoreOwn();
    } else if (me().role === "influencer") {
      panel.append(browseSection());
    }
    panel.append(lookupForm());
    detail = h("div", { class: "detail", "aria-live": "polite" });
    panel.append(detail);
  }

  // ---- brand owner: create -------------------------------------------------------
  function createForm(kind) {
    const title = field("Title", h("input", { maxlength: 200, required: true }));
    const description = field("Description", h("textarea", { rows: 2, maxlength: 5000 }));
    const money = (label) => field(label, h("input", { type: "number", min: "1", step: "0.01", inputmode: "decimal" }));
    const budgets = kind === "campaign" ? [money("Budget (₹)")] : [money("Minimum budget (₹)"), money("Maximum budget (₹)")];
    const error = h("p", { class: "error", role: "alert" });
    const submit = h("button", { type: "submit", class: "btn btn-primary", text: `Create ${kind}` });
    const form = h("form", { class: "stack", novalidate: true }, title, description, budgets, submit, error);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.textContent = "";
      const body = { title: title.control.value.trim(), description: description.control.value.trim() || undefined };
      if (kind === "campaign") body.budget = amount(budgets[0].control.value);
      else {
        body.min_budget = amount(budgets[0].control.value);
        body.max_budget = amount(budgets[1].control.value);
      }
      submit.disabled = true;
      try {
        const res = await api("POST", `/api/${kind}s`, body);
        form.reset();
        form.closest("details").open = false;
        addOwn(kind, res[kind], true);
        app.toast(`${kind === "campaign" ? "Campaign" : "Bid"} “${res[kind].title}” created. Share its id with creators.`);
      } catch (err) {
        error.textContent = explain(err);
      } finally {
        submit.disabled = false;
      }
    });
    return h(
      "details",
      { class: "panel" },
      h("summary", { text: kind === "campaign" ? "Create a campaign" : "Create a bid" }),
      form,
    );
  }

  // ---- brand owner: own items and applicants -------------------------------------
  function saveOwn() {
    const list = [...own.values()].map(({ kind, data }) => ({ kind, id: data.id }));
    localStorage.setItem(storageKey(), JSON.stringify(list));
  }

  async function restoreOwn() {
    let saved = [];
    try {
      saved = JSON.parse(localStorage.getItem(storageKey()) || "[]");
    } catch {
      saved = [];
    }
    // A server with list routes knows the owner's items; older ones don't.
    for (const kind of ["campaign", "bid"]) {
      try {
        const res = await api("GET", `/api/${kind}s?mine=true&limit=50`);
        for (const item of res[`${kind}s`] || []) {
          if (item.brand_owner_id === me().id) addOwn(kind, item, false);
        }
      } catch {
        // No list route: localStorage is all we have.
      }
    }
    for (const { kind, id } of saved) {
      if (own.has(`${kind}:${id}`)) continue;
      try {
        const res = await api("GET", `/api/${kind}s/${id}`);
        addOwn(kind, res[kind], false);
      } catch {
        // Gone, or from another server.
      }
    }
  }

  function addOwn(kind, data, fresh) {
    const key = `${kind}:${data.id}`;
    if (own.has(key)) return own.get(key);
    const applicants = h("ul", { class: "applicants", "aria-label": `Applicants for ${data.title}` });
    const showButton = h("button", { type: "button", class: "btn btn-small btn-secondary", text: "Show applicants" });
    const copyButton = h("button", { type: "button", class: "btn btn-small btn-secondary", text: "Copy link" });
    const node = h(
      "li",
      { class: "source", dataset: { kind, id: data.id } },
      h("h4", { class: "source-title", text: data.title }),
      h("p", { class: "source-meta" }, h("span", { class: "badge", text: kind === "bid" ? "Bid" : "Campaign" }), " ", budgetText(kind, data)),
      h("p", { class: "source-id" }, "Id ", h("code", { class: "source-id-value", text: data.id })),
      h("div", { class: "row" }, showButton, copyButton),
      applicants,
    );
    const entry = { kind, data, node, applicants, loaded: false };
    showButton.addEventListener("click", () => loadApplicants(entry));
    copyButton.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(linkFor(kind, data.id));
        copyButton.textContent = "Link copied";
      } catch {
        copyButton.textContent = "Copy failed: select the id";
      }
    });
    own.set(key, entry);
    ownEmpty.hidden = true;
    if (fresh) ownList.prepend(node);
    else ownList.append(node);
    saveOwn();
    follow(kind, data.id);
    return entry;
  }

  function follow(kind, id) {
    const socket = app.socket();
    if (socket?.connected) emit(socket, `join_${kind}_room`, id).catch(() => {});
  }

  const loadApplicants = (entry) => applicants.load(entry);

  // ---- creators: browse, look up, apply --------------------------------------------
  function browseSection() {
    const list = h("ul", { class: "source-list", "aria-label": "Open campaigns and bids" });
    const note = h("p", { class: "hint" });
    const section = h("section", { class: "panel" }, h("h3", { class: "section-title", text: "Open campaigns and bids" }), note, list);
    (async () => {
      let found = 0;
      for (const kind of ["campaign", "bid"]) {
        try {
          const res = await api("GET", `/api/${kind}s?limit=20`);
          for (const item of res[`${kind}s`] || []) {
            found++;
            const b = h("button", { type: "button", class: "btn btn-small btn-secondary", text: "View" });
            b.addEventListener("click", () => show(kind, item));
            b.setAttribute("aria-label", `View ${item.title}`);
            list.append(
              h(
                "li",
                { class: "source" },
                h("h4", { class: "source-title", text: item.title }),
                h("p", { class: "source-meta" }, h("span", { class: "badge", text: kind === "bid" ? "Bid" : "Campaign" }), " ", budgetText(kind, item)),
                b,
              ),
            );
          }
        } catch {
          // This server has no list route.
        }
      }
      note.textContent = found
        ? ""
        : "Ask a brand for the id or link of a campaign or bid, and paste it below.";
    })();
    return section;
  }

  function lookupForm() {
    const input = field("Campaign or bid id (or link)", h("input", { autocomplete: "off", spellcheck: "false" }));
    const error = h("p", { class: "error", role: "alert" });
    const form = h(
      "form",
      { class: "panel stack", novalidate: true },
      h("h3", { class: "section-title", text: "Open a campaign or bid" }),
      input,
      h("button", { type: "submit", class: "btn btn-secondary", text: "Open" }),
      error,
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.textContent = "";
      const raw = input.control.value.trim();
      const link = raw.match(/#\/(campaign|bid)\/([^/?#\s]+)/);
      try {
        if (link) await openSource(link[1], link[2]);
        else if (raw) await openSource(null, raw);
      } catch (err) {
        error.textContent = err.code === "NOT_FOUND" ? "No campaign or bid has that id." : explain(err);
      }
    });
    return form;
  }

  /** Finds a campaign or bid (either kind when `kind` is null) and shows it. */
  async function openSource(kind, id) {
    const kinds = kind ? [kind] : ["campaign", "bid"];
    const ticket = ++requested;
    let last;
    for (const k of kinds) {
      try {
        const res = await api("GET", `/api/${k}s/${encodeURIComponent(id)}`);
        // A later request (another link followed meanwhile) decides what is shown.
        if (ticket === requested) show(k, res[k]);
        return;
      } catch (err) {
        last = err;
        if (err.code !== "NOT_FOUND" && err.code !== "VALIDATION_FAILED") throw err;
      }
    }
    throw last;
  }

  function show(kind, data) {
    if (data.brand_owner_id === me().id) {
      const entry = addOwn(kind, data, true);
      entry.node.scrollIntoView({ block: "nearest" });
      loadApplicants(entry);
      fill(detail);
      return;
    }
    const parts = [
      h("h3", { class: "section-title", text: data.title }),
      h("p", { class: "source-meta" }, h("span", { class: "badge", text: kind === "bid" ? "Bid" : "Campaign" }), " ", budgetText(kind, data)),
      data.description ? h("p", { class: "source-description", text: data.description }) : null,
      data.requirements ? h("p", { class: "source-description", text: `Requirements: ${data.requirements}` }) : null,
    ];
    if (me().role === "influencer") parts.push(applyForm(kind, data));
    fill(detail, h("article", { class: "panel", "aria-label": data.title, dataset: { kind, id: data.id } }, parts));
  }

  function appliedTo() {
    try {
      return JSON.parse(localStorage.getItem(appliedKey()) || "{}");
    } catch {
      return {};
    }
  }

  /** What the creator sent, once applied: the application cannot be changed. */
  function appliedNote(kind, data, application) {
    const conversation = app
      .conversations()
      .find((c) => c.conversation_type === kind && (kind === "bid" ? c.bid_id : c.campaign_id) === data.id);
    const parts = [
      h("p", { class: "status", role: "status", text: "Applied. The brand will open a conversation with you; it appears under Chats." }),
      application?.proposed_amount != null ? h("p", { text: `Your price: ${rupees(application.proposed_amount)}` }) : null,
      application?.message ? h("p", { class: "applicant-message", text: `Your message: ${application.message}` }) : null,
    ];
    if (conversation) {
      const go = h("button", { type: "button", class: "btn btn-secondary btn-small", text: "Go to conversation" });
      go.addEventListener("click", () => app.openConversation(conversation.id));
      parts.push(go);
    }
    return h("div", { class: "stack applied" }, parts);
  }

  function applyForm(kind, data) {
    const key = `${kind}:${data.id}`;
    const already = appliedTo()[key];
    if (already) return appliedNote(kind, data, already);
    const proposed = field(
      "Your price (₹)",
      h("input", { type: "number", min: "1", step: "0.01", inputmode: "decimal", required: kind === "bid" }),
    );
    const message = field("Message to the brand", h("textarea", { rows: 3, maxlength: 5000 }));
    const status = h("p", { class: "error", role: "alert" });
    const submit = h("button", { type: "submit", class: "btn btn-primary", text: "Apply" });
    const form = h("form", { class: "stack", novalidate: true }, proposed, message, submit, status);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      status.textContent = "";
      const body = {
        [`${kind}_id`]: data.id,
        proposed_amount: amount(proposed.control.value),
        message: message.control.value.trim() || undefined,
      };
      submit.disabled = true;
      try {
        const res = await api("POST", "/api/requests", body);
        const application = { proposed_amount: res.request?.proposed_amount ?? null, message: res.request?.message ?? null };
        localStorage.setItem(appliedKey(), JSON.stringify({ ...appliedTo(), [key]: application }));
        form.replaceWith(appliedNote(kind, data, application));
        follow(kind, data.id);
      } catch (err) {
        status.textContent = explain(err);
        submit.disabled = false;
      }
    });
    return form;
  }

  return {
    init,
    /**
     * Shows a campaign or bid once per request: a hash navigation fires both
     * `hashchange` and `popstate`, and a second render would replace a form the
     * user is already filling in. A newer request wins over an older one.
     */
    openSource(kind, id) {
      const key = `${kind ?? "any"}:${id}`;
      if (opening?.key === key) return opening.done;
      const done = openSource(kind, id)
        .catch((err) => app.toast(explain(err)))
        .finally(() => {
          if (opening?.done === done) opening = null;
        });
      opening = { key, done };
      return done;
    },
    /**
     * A `new_application` event or notification: refreshes the applicants;
     * resolves to {name, title} of the application, for the alert.
     */
    async onApplication(data) {
      const kind = data.bid_id ? "bid" : "campaign";
      const id = data.bid_id || data.campaign_id;
      if (me().role !== "brand_owner" || !id) return null;
      let entry = own.get(`${kind}:${id}`);
      if (!entry) {
        try {
          const res = await api("GET", `/api/${kind}s/${id}`);
          entry = addOwn(kind, res[kind], true);
        } catch {
          return null;
        }
      }
      const requests = await loadApplicants(entry);
      const request = requests.find((r) => r.influencer_id === data.influencer_id);
      return { name: request?.influencer?.name || data.influencer_id, title: entry.data.title };
    },
    /** Rejoins the rooms of the owner's items after a reconnect. */
    rejoin() {
      for (const { kind, data } of own.values()) follow(kind, data.id);
    },
  };
}
