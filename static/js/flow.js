// The collaboration flow as each side reads it: whose turn it is, what the
// awaited person has to do, and why the composer is locked. The page knows
// the flow states by name only to word them; what to send always comes from
// the cards themselves.

import { roleName } from "./dom.js";

/** What the awaited person does in each state ("Waiting for Asha to …"). */
const STEPS = {
  influencer_responding: "respond to the collaboration request",
  brand_owner_details: "share the project details",
  influencer_reviewing: "review the project details",
  brand_owner_pricing: "send a price offer",
  influencer_price_response: "answer the price offer",
  negotiation_input: "send a counter-offer",
  brand_owner_negotiation: "answer the counter-offer",
  influencer_final_response: "answer the final offer",
  payment_pending: "complete the payment",
  payment_completed: "start the work",
  work_in_progress: "submit the work",
  work_submitted: "review the submitted work",
};

export function stepText(state) {
  return STEPS[state] || (state ? state.replace(/_/g, " ") : "");
}

/**
 * The state of a flow conversation from the viewer's side, or null for a
 * direct conversation: {kind: yours|waiting|open|closed, text, short}.
 * `otherName` is the other participant (the one awaited when it is not the viewer).
 */
export function turn(context, viewerRole, otherName) {
  const c = context || {};
  if (c.conversation_type === "direct" || !c.flow_state) return null;
  if (c.chat_status === "closed" || c.flow_state === "chat_closed") return { kind: "closed", text: "Closed", short: "Closed" };
  if (c.flow_state === "real_time") return { kind: "open", text: "Chat open", short: "Chat open" };
  if (c.flow_state === "work_approved") return { kind: "open", text: "Work approved", short: "Work approved" };
  const step = stepText(c.flow_state);
  if (c.awaiting_role && c.awaiting_role === viewerRole) {
    return { kind: "yours", text: `Your turn: ${step}`, short: "Your turn" };
  }
  const participant = viewerRole === "brand_owner" || viewerRole === "influencer";
  const who = participant && otherName ? otherName : roleName(c.awaiting_role);
  return { kind: "waiting", text: `Waiting for ${who} to ${step}`, short: `Waiting for ${who}` };
}

/** "Waiting for <name> to <step>…" for a card addressed to someone else. */
export function waitingFor(card, viewerRole, otherName) {
  const participant = viewerRole === "brand_owner" || viewerRole === "influencer";
  const who = participant && otherName ? otherName : roleName(card.visible_to);
  return `Waiting for ${who} to ${stepText(card.flow_state)}`;
}

/**
 * Why the composer is locked, or null when free text may be sent:
 * {text} naming what unlocks it.
 */
export function lockReason(context, viewerRole, otherName) {
  const c = context || {};
  if (viewerRole === "admin") return { text: "Admins can read this conversation but not write in it." };
  if (c.chat_status === "closed") return { text: "This conversation is closed. You can still read it." };
  if (c.chat_status === "automated") {
    const unlock =
      viewerRole === "brand_owner"
        ? "it opens when you approve the submitted work"
        : `it opens when ${otherName || "the brand"} approves your submitted work`;
    return { text: `Free chat is not open yet: ${unlock}. Until then, answer the cards above.` };
  }
  return null;
}
