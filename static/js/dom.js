// Small DOM and formatting helpers. Every piece of text reaches the page as a
// text node (textContent), never as HTML, so user content cannot inject markup.

/**
 * Creates an element. `props` keys: `class`, `text`, `on` ({event: handler}),
 * `dataset`, and any attribute (`aria-*`, `type`, `for`, ...); `false`/`null`
 * values are skipped, `true` sets an empty attribute. Children may be nodes,
 * strings (added as text) or arrays of either.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = String(value);
    else if (key === "on") for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value") el.value = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A labelled form field; returns the wrapper, the control is `.control`. */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 10)}`;
  control.id = id;
  const wrap = h("div", { class: "field" }, h("label", { for: id, text: label }), control);
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    wrap.appendChild(h("p", { class: "hint", id: hintId, text: hint }));
  }
  wrap.control = control;
  return wrap;
}

const inr = new Intl.NumberFormat("en-IN", { style: "currency", currency: "INR", maximumFractionDigits: 2 });

/** ₹ formatting for an amount in rupees (a number or numeric string). */
export function rupees(amount) {
  const n = Number(amount);
  return amount === null || amount === undefined || Number.isNaN(n) ? "—" : inr.format(n);
}

export function shortTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return sameDay
    ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleDateString([], { day: "numeric", month: "short" });
}

export function roleName(role) {
  if (role === "brand_owner") return "the brand";
  if (role === "influencer") return "the creator";
  return role ? role.replace(/_/g, " ") : "nobody";
}

export function roleLabel(role) {
  if (role === "brand_owner") return "Brand owner";
  if (role === "influencer") return "Creator";
  if (role === "admin") return "Admin";
  return role || "";
}

const STATES = {
  influencer_responding: "Waiting for the creator to accept",
  brand_owner_details: "Brand is sharing project details",
  influencer_reviewing: "Creator is reviewing the project",
  brand_owner_pricing: "Brand is preparing a price offer",
  influencer_price_response: "Creator is considering the offer",
  negotiation_input: "Creator is writing a counter-offer",
  brand_owner_negotiation: "Brand is considering the counter-offer",
  influencer_final_response: "Creator is considering the final offer",
  payment_pending: "Waiting for payment",
  payment_completed: "Paid; work can start",
  work_in_progress: "Work in progress",
  work_submitted: "Work submitted for review",
  work_approved: "Work approved",
  real_time: "Chat open",
  chat_closed: "Closed",
};

export function humanState(state) {
  return STATES[state] || (state ? state.replace(/_/g, " ") : "");
}

/** Orders messages by creation time, then by id (UUID v7 ids sort by time). */
export function compareMessages(a, b) {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
