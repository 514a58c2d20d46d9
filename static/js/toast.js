// Short-lived alerts in a corner that covers neither the conversation list
// nor the composer. An alert about another conversation offers to open it.

import { $, h } from "./dom.js";

/** Shows `text`; with `onOpen`, an Open button that calls it. */
export function toast(text, onOpen) {
  const close = h("button", { type: "button", class: "toast-close", "aria-label": "Dismiss", text: "×" });
  const node = h("div", { class: "toast" }, h("p", { text }), close);
  if (onOpen) {
    const open = h("button", { type: "button", class: "btn btn-small btn-secondary", text: "Open" });
    open.addEventListener("click", () => {
      node.remove();
      onOpen();
    });
    node.insertBefore(open, close);
  }
  close.addEventListener("click", () => node.remove());
  const shelf = $("#toasts");
  shelf.append(node);
  while (shelf.children.length > 3) shelf.firstElementChild.remove();
  setTimeout(() => node.remove(), 6000);
}
