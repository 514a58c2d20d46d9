// Paying the payment card. Development servers without gateway keys run a
// sandbox: one call completes the order. With keys, Razorpay Checkout (its
// script is loaded from Razorpay only then) collects the payment and the
// server verifies the signed result.

import { api } from "./api.js";

const CHECKOUT_SRC = "https://checkout.razorpay.com/v1/checkout.js";
let checkoutLoading = null;

function loadCheckout() {
  if (window.Razorpay) return Promise.resolve();
  checkoutLoading ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = CHECKOUT_SRC;
    script.async = true;
    script.onload = () => resolve();
    script.onerror = () => {
      checkoutLoading = null;
      reject(new Error("Razorpay Checkout could not be loaded. Check your connection and try again."));
    };
    document.head.appendChild(script);
  });
  return checkoutLoading;
}

/** Pays the order on `card` (its `payment_order`); resolves once the server has it. */
export async function pay(card, conversationId, config) {
  const order = card.payment_order || {};
  const sandbox = order.sandbox ?? config?.sandbox;
  if (sandbox) {
    await api("POST", "/api/payments/sandbox/pay", { conversation_id: conversationId });
    return;
  }
  const rc = order.razorpay_config;
  if (!rc?.order_id) throw new Error("This card has no payment order yet.");
  await loadCheckout();
  const result = await new Promise((resolve, reject) => {
    const checkout = new window.Razorpay({
      key: rc.key_id || config?.key_id,
      order_id: rc.order_id,
      amount: rc.amount,
      currency: rc.currency,
      name: rc.name,
      description: rc.description,
      prefill: rc.prefill,
      theme: rc.theme,
      handler: resolve,
      modal: { ondismiss: () => reject(new Error("The payment window was closed before paying.")) },
    });
    checkout.on("payment.failed", (r) => reject(new Error(r?.error?.description || "The payment failed.")));
    checkout.open();
  });
  await api("POST", "/api/payments/verify", {
    conversation_id: conversationId,
    razorpay_order_id: result.razorpay_order_id,
    razorpay_payment_id: result.razorpay_payment_id,
    razorpay_signature: result.razorpay_signature,
  });
}
