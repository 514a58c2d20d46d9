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

const DAY = 86400000;

/** A local calendar day, for grouping messages by date. */
export function dayKey(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

/** "Today", "Yesterday", "Monday 30 Nov", or "30 Nov 2025" for another year. */
export function dayLabel(iso, now = new Date()) {
  const d = new Date(iso);
  const midnight = (x) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const days = Math.round((midnight(now) - midnight(d)) / DAY);
  if (days === 0) return "Today";
  if (days === 1) return "Yesterday";
  if (d.getFullYear() !== now.getFullYear()) {
    return d.toLocaleDateString([], { day: "numeric", month: "short", year: "numeric" });
  }
  return d.toLocaleDateString([], { weekday: "long", day: "numeric", month: "short" });
}

export function clockTime(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
}

export function shortTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay ? clockTime(iso) : d.toLocaleDateString([], { day: "numeric", month: "short" });
}

/** One or two letters for an avatar: "Asha Rao" → "AR", "kite" → "KI". */
export function initials(name) {
  const words = String(name || "").trim().split(/\s+/).filter(Boolean);
  if (!words.length) return "?";
  const first = Array.from(words[0]);
  const letters = words.length > 1 ? first[0] + Array.from(words[words.length - 1])[0] : first.slice(0, 2).join("");
  return letters.toUpperCase();
}

/** A round avatar with initials, its colour derived from the user id. */
export function avatar(user, extraClass = "") {
  const key = String(user?.id || user?.name || "");
  let hash = 0;
  for (const ch of key) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  const el = h("span", { class: `avatar ${extraClass}`.trim(), "aria-hidden": "true", text: initials(user?.name || user?.id) });
  el.style.setProperty("--avatar-hue", String(hash % 360));
  return el;
}

const URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;

/** Text with its http(s) links as anchors; everything else stays text nodes. */
export function linkify(text) {
  const out = [];
  let last = 0;
  for (const match of String(text).matchAll(URL_RE)) {
    let url = match[0];
    const trail = url.match(/[.,;:!?)\]]+$/);
    if (trail) url = url.slice(0, -trail[0].length);
    out.push(text.slice(last, match.index));
    out.push(h("a", { href: url, target: "_blank", rel: "noopener noreferrer nofollow", text: url }));
    last = match.index + url.length;
  }
  out.push(text.slice(last));
  return out.filter((x) => x !== "");
}

export function capital(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
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
