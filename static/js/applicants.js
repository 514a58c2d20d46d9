// A brand owner's applicants for one campaign or bid: who applied (by name),
// at what price, and either "Open conversation" (with the amount the bid
// conversation starts from) or, once one exists, "Go to conversation".

import { api, explain } from "./api.js";
import { avatar, field, fill, h, rupees } from "./dom.js";
import { turn } from "./flow.js";

function amount(value) {
  const s = String(value ?? "").trim();
  return s === "" ? undefined : Number(s);
}

export function createApplicants(app) {
  /** The flow conversation of (kind, source, influencer), from the server's list. */
  async function conversationsFor(kind, sourceId) {
    const res = await api("GET", `/api/messages/conversations?type=${kind}&limit=100`);
    const found = new Map();
    for (const c of res.conversations) {
      if ((kind === "bid" ? c.bid_id : c.campaign_id) === sourceId) found.set(c.influencer_id, c);
    }
    return found;
  }

  function row(kind, source, request, conversation) {
    const name = request.influencer?.name || request.influencer_id;
    const person = { id: request.influencer_id, name };
    const error = h("p", { class: "error", role: "alert" });
    const li = h("li", { class: "applicant", dataset: { influencer: request.influencer_id } });
    const head = h(
      "div",
      { class: "applicant-head" },
      avatar(person),
      h("span", { class: "applicant-who" }, h("strong", { text: name }), " ", h("span", { class: "applicant-id", text: `@${request.influencer_id}` })),
    );
    const parts = [
      head,
      request.proposed_amount != null ? h("p", { text: `Proposes ${rupees(request.proposed_amount)}` }) : null,
      request.message ? h("p", { class: "applicant-message", text: request.message }) : null,
    ];
    if (conversation) {
      const t = turn(conversation, app.me().role, name);
      const go = h("button", {
        type: "button",
        class: "btn btn-secondary btn-small",
        text: "Go to conversation",
        "aria-label": `Go to conversation with ${name}`,
      });
      go.addEventListener("click", () => app.openConversation(conversation.id));
      parts.push(h("p", { class: "applicant-state", text: `Conversation open${t ? ` · ${t.text}` : ""}` }), go);
      fill(li, parts);
      return li;
    }
    let amountInput = null;
    if (kind === "bid") {
      const wrap = field(
        "Proposed amount (₹)",
        h("input", { type: "number", min: "1", step: "0.01", inputmode: "decimal", value: request.proposed_amount ?? "" }),
        "The price the conversation starts from.",
      );
      amountInput = wrap.control;
      parts.push(wrap);
    }
    const open = h("button", {
      type: "button",
      class: "btn btn-primary btn-small",
      text: "Open conversation",
      "aria-label": `Open conversation with ${name}`,
    });
    open.addEventListener("click", async () => {
      error.textContent = "";
      open.disabled = true;
      try {
        const body =
          kind === "bid"
            ? { bid_id: source.id, influencer_id: request.influencer_id, proposed_amount: amount(amountInput.value) }
            : { campaign_id: source.id, influencer_id: request.influencer_id };
        const res = await api("POST", `/api/${kind}s/automated/initialize`, body);
        li.replaceWith(row(kind, source, request, { ...res.conversation, other_user: person }));
        await app.openConversation(res.conversation.id);
      } catch (err) {
        error.textContent = explain(err);
        open.disabled = false;
      }
    });
    parts.push(open, error);
    fill(li, parts);
    return li;
  }

  /** Fills `entry.applicants`; resolves to the requests (empty on failure). */
  async function load(entry) {
    const { kind, data, applicants } = entry;
    if (!entry.loaded) fill(applicants, h("li", { class: "hint", text: "Loading applicants…" }));
    try {
      const [res, open] = await Promise.all([
        api("GET", `/api/${kind}s/${data.id}/requests?limit=100`),
        conversationsFor(kind, data.id),
      ]);
      entry.loaded = true;
      if (!res.requests.length) {
        fill(applicants, h("li", { class: "hint", text: "No applications yet. They appear here live." }));
        return [];
      }
      fill(applicants, res.requests.map((r) => row(kind, data, r, open.get(r.influencer_id))));
      return res.requests;
    } catch (err) {
      fill(applicants, h("li", { class: "error", text: explain(err) }));
      return [];
    }
  }

  return { load };
}
