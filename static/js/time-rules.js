// Time rules beside the composer: the open conversation's disappearing-message
// timer (either participant may set it; the server writes a notice saying who
// did), and what is left of the viewer's free messages today and points.

import { api, explain } from "./api.js";
import { $, clockTime } from "./dom.js";

/** The timers offered; the server refuses ones below MESSAGE_TTL_MIN_SECONDS. */
const TIMERS = [
  ["", "Off"],
  ["3600", "1 hour"],
  ["86400", "1 day"],
  ["604800", "7 days"],
];

/**
 * @param {object} hooks
 *   view()              the open conversation's state, or null
 *   upsert(message)     the notice the server wrote about the change
 *   onError(text)
 */
export function createTimeRules(hooks) {
  const select = $("#composer-timer");
  const quotaLine = $("#composer-quota");
  for (const [value, label] of TIMERS) select.append(new Option(label, value));

  function show(view) {
    const ttl = view?.conversation?.message_ttl_seconds;
    const value = ttl ? String(ttl) : "";
    if (ttl && !TIMERS.some(([v]) => v === value)) select.append(new Option(`${Math.round(ttl / 3600)} hours`, value));
    select.value = value;
    select.disabled = !view?.conversation;
  }

  select.addEventListener("change", async () => {
    const view = hooks.view();
    if (!view) return;
    const seconds = select.value ? Number(select.value) : null;
    select.disabled = true;
    try {
      const res = await api("PUT", `/api/messages/conversations/${view.id}/settings`, { message_ttl_seconds: seconds });
      if (view.conversation) view.conversation.message_ttl_seconds = res.message_ttl_seconds;
      if (res.message) hooks.upsert(res.message);
    } catch (err) {
      hooks.onError(explain(err));
    } finally {
      if (hooks.view() === view) show(view);
    }
  });

  /** `quota` as GET /api/messages/quota and `quota_updated` give it. */
  function showQuota(quota) {
    const on = quota && quota.enabled !== false && quota.free_limit > 0;
    quotaLine.hidden = !on;
    if (!on) return;
    const free = `${quota.remaining_free} of ${quota.free_limit} free messages left today`;
    const points = `${quota.points_balance} points (${quota.cost_per_message} a message after that)`;
    quotaLine.textContent = `${free} · ${points} · resets ${clockTime(quota.resets_at)}`;
    quotaLine.dataset.remaining = String(quota.remaining_free);
  }

  return {
    show,
    showQuota,
    async loadQuota() {
      try {
        showQuota((await api("GET", "/api/messages/quota")).quota);
      } catch {
        quotaLine.hidden = true;
      }
    },
  };
}
