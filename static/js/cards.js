// Renders an `action_data` card generically: title, subtitle, payment
// breakdown, submitted work, buttons and input fields. It knows no flow
// states: what to send comes from the card itself (button ids and data,
// `submit_action`, field ids).

import { explain } from "./api.js";
import { h, rupees } from "./dom.js";

/**
 * @param {object} message  the message carrying `action_data`
 * @param {object} opts
 *   mine      whether the viewer is the one the card asks (`visible_to`)
 *   live      whether the card can still be answered
 *   waiting   what a live card for someone else says ("Waiting for Asha to …")
 *   doneText  what a card that can no longer be answered says
 *   text      the message text, shown inside a collapsed card for someone else
 *   said      the message text shown above the card, if any
 *   sandbox   whether payments go through the development sandbox
 *   onButton(button)             -> Promise (a button_action)
 *   onSubmit(card, values)       -> Promise (an input card's submit)
 *   onPay(card)                  -> Promise (the payment card's pay button)
 *   onDone()                     after any of them succeeded
 *
 * Only the live card of the person asked is open; every other card is
 * collapsed to one line (what happens next, or that it was answered) and
 * opens on request.
 */
export function renderCard(message, opts) {
  const card = message.action_data;
  if (!opts.live || !opts.mine) return collapsed(message, opts);
  const titleId = `card-${message.id}-title`;
  const el = h("section", {
    class: "card",
    "aria-labelledby": titleId,
    dataset: { flowState: card.flow_state || "", live: "true" },
  });
  el.append(h("h3", { class: "card-title", id: titleId, text: card.title || "Action" }));
  details(el, card);

  const error = h("p", { class: "error card-error", role: "alert" });
  const controls = [];
  // Disables the card while a request runs; shows its error, if any.
  const run = async (work) => {
    error.textContent = "";
    controls.forEach((c) => (c.disabled = true));
    el.setAttribute("aria-busy", "true");
    let ok = false;
    try {
      await work();
      ok = true;
    } catch (err) {
      error.textContent = err.code ? explain(err) : err.message;
      controls.forEach((c) => (c.disabled = false));
    } finally {
      el.removeAttribute("aria-busy");
    }
    if (ok) opts.onDone?.();
  };

  if (Array.isArray(card.buttons) && card.buttons.length) {
    const row = h("div", { class: "card-buttons" });
    for (const button of card.buttons) {
      const pays = card.payment_order && button.action === "proceed_to_payment";
      const text = pays && opts.sandbox ? `${button.text} (sandbox)` : button.text;
      const b = h("button", { type: "button", class: `btn btn-${button.style || "secondary"}`, text });
      b.addEventListener("click", () => run(() => (pays ? opts.onPay(card) : opts.onButton(button))));
      controls.push(b);
      row.append(b);
    }
    el.append(row);
  }
  const fields = card.input_fields || (card.input_field ? [card.input_field] : []);
  if (fields.length && card.submit_action) {
    const inputs = fields.map((f) => input(message.id, f));
    const submit = h("button", {
      type: "submit",
      class: `btn btn-${card.submit_button?.style || "primary"}`,
      text: card.submit_button?.text || "Submit",
    });
    const form = h("form", { class: "card-form", novalidate: true }, inputs, submit);
    controls.push(submit, ...inputs.map((w) => w.control));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const values = {};
      for (const w of inputs) {
        const c = w.control;
        const raw = c.value.trim();
        if (!raw) {
          if (w.spec.required) {
            error.textContent = `${w.labelText} is required.`;
            c.focus();
            return;
          }
          continue;
        }
        values[w.spec.id] = w.spec.type === "number" ? Number(raw) : raw;
      }
      run(() => opts.onSubmit(card, values));
    });
    el.append(form);
  }

  el.append(error);
  return el;
}

function details(el, card, withSubtitle = true) {
  if (card.subtitle && withSubtitle) el.append(h("p", { class: "card-subtitle", text: card.subtitle }));
  if (card.expires_at) {
    const at = new Date(card.expires_at);
    el.append(h("p", { class: "card-expires" }, "Offer expires ", h("time", { datetime: card.expires_at, text: at.toLocaleString() })));
  }
  if (card.payment_breakdown) el.append(breakdown(card.payment_breakdown));
  if (card.work_submission) el.append(submission(card.work_submission));
}

/** A card that is not the viewer's to answer now: one line, details on request. */
function collapsed(message, opts) {
  const card = message.action_data;
  const waiting = opts.live && !opts.mine;
  const line = [
    h("span", { class: "card-title", text: card.title || "Action" }),
    // The subtitle, unless the message above already says it.
    card.subtitle && !(opts.said || "").includes(card.subtitle) ? h("span", { class: "card-subtitle", text: card.subtitle }) : null,
    h("span", { class: `card-status ${waiting ? "card-waiting" : ""}`.trim(), text: waiting ? `${opts.waiting}…` : opts.doneText || "Answered" }),
  ];
  const body = h("div", { class: "card-body" });
  if (opts.text) body.append(h("p", { class: "card-text", text: opts.text }));
  details(body, card, false);
  const dataset = { flowState: card.flow_state || "", live: String(Boolean(opts.live)) };
  if (!body.childElementCount) {
    return h("div", { class: "card card-collapsed", dataset }, h("div", { class: "card-summary" }, line));
  }
  return h("details", { class: "card card-collapsed", dataset }, h("summary", { class: "card-summary" }, line), body);
}

function breakdown(b) {
  const percent = b.commission_percent !== undefined ? ` (${b.commission_percent}%)` : "";
  return h(
    "dl",
    { class: "breakdown", "aria-label": "Payment breakdown" },
    h("dt", { text: "Total" }),
    h("dd", { text: rupees(b.total) }),
    h("dt", { text: `Platform fee${percent}` }),
    h("dd", { text: rupees(b.commission) }),
    h("dt", { text: "Creator receives" }),
    h("dd", { text: rupees(b.net_to_influencer) }),
  );
}

function submission(w) {
  const rows = [
    ["Deliverables", w.deliverables],
    ["Description", w.description],
    ["Notes", w.submission_notes],
  ].filter(([, v]) => v);
  return h(
    "dl",
    { class: "submission", "aria-label": "Submitted work" },
    rows.map(([k, v]) => [h("dt", { text: k }), h("dd", { text: String(v) })]),
  );
}

function input(messageId, spec) {
  const id = `in-${messageId}-${spec.id}`;
  const labelText = spec.label || spec.placeholder || spec.id.replace(/_/g, " ");
  let control;
  if (spec.type === "textarea") {
    control = h("textarea", { id, rows: 3 });
  } else {
    control = h("input", { id, type: spec.type === "number" ? "number" : spec.type || "text" });
    if (spec.type === "number") {
      control.step = "0.01";
      control.inputMode = "decimal";
    }
  }
  if (spec.min !== undefined && spec.type === "number") control.min = String(spec.min);
  if (spec.maxLength && spec.type !== "number") control.maxLength = spec.maxLength;
  if (spec.required) control.required = true;
  if (spec.placeholder) control.placeholder = spec.placeholder;
  if (spec.value !== undefined && spec.value !== null) control.value = String(spec.value);
  const wrap = h("div", { class: "field" }, h("label", { for: id, text: labelText + (spec.required || /optional/i.test(labelText) ? "" : " (optional)") }), control);
  wrap.control = control;
  wrap.spec = spec;
  wrap.labelText = labelText;
  return wrap;
}
