// REST calls and socket acknowledgements share one error envelope:
// {success: false, message, error_code, details}.

import { roleName } from "./dom.js";
import { stepText } from "./flow.js";

export class ApiError extends Error {
  constructor(body, status) {
    super(body?.message || `Request failed (${status})`);
    this.code = body?.error_code || (status === 0 ? "NETWORK" : "INTERNAL");
    this.details = body?.details || null;
    this.status = status;
  }
}

let token = null;
export function setToken(value) {
  token = value;
}

/** `fetch` with the bearer token and JSON both ways; throws ApiError. */
export async function api(method, path, body) {
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: {
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError({ message: "The server cannot be reached. Check your connection." }, 0);
  }
  let json = null;
  try {
    json = await res.json();
  } catch {
    json = null;
  }
  if (!res.ok || json?.success === false) throw new ApiError(json, res.status);
  return json;
}

/** Emits with an acknowledgement; resolves with the ack, throws ApiError. */
export async function emit(socket, event, payload, timeoutMs = 15000) {
  let ack;
  try {
    ack = await socket.timeout(timeoutMs).emitWithAck(event, payload);
  } catch {
    throw new ApiError({ message: "No answer from the server (connection lost?)", error_code: "TIMEOUT" }, 0);
  }
  if (!ack || ack.success === false) throw new ApiError(ack, 0);
  return ack;
}

/** A sentence a person can act on, for any error the server sends. */
export function explain(err) {
  const d = err.details || {};
  switch (err.code) {
    case "CHAT_NOT_ENABLED":
      return (
        "Free chat is not open yet: it opens once the brand approves the submitted work." +
        (d.awaiting_role ? ` Next: ${roleName(d.awaiting_role)} has to ${stepText(d.flow_state)}.` : "") +
        " Use the cards in the conversation to move it forward."
      );
    case "CONVERSATION_CLOSED":
      return "This conversation is closed. You can still read it.";
    case "NOT_YOUR_TURN":
      return `It is ${roleName(d.awaiting_role)}'s turn, not yours.`;
    case "FLOW_STATE_INVALID":
      return "That step is no longer available: the conversation has moved on. Use the latest card.";
    case "RATE_LIMITED":
      return `Slow down: try again in ${Math.ceil((d.retry_after_ms || 1000) / 1000)} s.`;
    case "VALIDATION_FAILED": {
      const fields = Object.entries(d)
        .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
        .join("; ");
      return fields ? `${err.message} (${fields})` : err.message;
    }
    case "UNAUTHORIZED":
      return "Your session has expired or the token was refused. Sign in again.";
    case "FORBIDDEN":
      return `Not allowed: ${err.message}`;
    case "PAYMENT_GATEWAY_ERROR":
      return "The payment gateway did not answer. Nothing was charged; try again.";
    default:
      return err.message || "Something went wrong.";
  }
}
