// Where the message pane is scrolled: following new messages while at the
// end, the jump-to-latest button (with a count of what arrived below), the
// first unread message on opening, older pages when nearing the top, and
// showing one message (a search result, a reply's original).

import { $ } from "./dom.js";

/**
 * @param {object} pane  view(), marker(), node(id), loadOlder() -> Promise,
 *                       focusComposer(), toast(text)
 */
export function createScroller(pane) {
  const scroller = $("#messages");
  const jump = $("#jump-latest");

  function isNearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
  }

  function updateJump() {
    const view = pane.view();
    const far = view && scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight > 200;
    const count = view?.newBelow || 0;
    jump.hidden = !view || (!far && !count);
    jump.textContent = count ? `↓ ${count} new message${count === 1 ? "" : "s"}` : "↓ Jump to latest";
  }

  function toBottom() {
    scroller.scrollTop = scroller.scrollHeight;
    const view = pane.view();
    if (view) view.newBelow = 0;
    updateJump();
  }

  /** On opening: the first unread message when it would be out of sight, else the end. */
  function toStart() {
    const marker = pane.marker();
    if (marker && scroller.scrollHeight - marker.offsetTop > scroller.clientHeight) scroller.scrollTop = marker.offsetTop - 8;
    else toBottom();
  }

  /**
   * Scrolls to message `id` and marks it for a moment; with `loadOlder`,
   * fetches earlier pages until it is there (a search result).
   */
  async function reveal(id, { loadOlder = true } = {}) {
    const view = pane.view();
    if (!view) return false;
    for (let round = 0; loadOlder && round < 20 && pane.view() === view && view.hasMore; round++) {
      if (view.messages.some((m) => m.id === id)) break;
      await pane.loadOlder();
    }
    const node = pane.view() === view ? pane.node(id) : null;
    if (!node) {
      pane.toast(loadOlder ? "That message is no longer in this conversation." : "The original message is further up: scroll up to load it.");
      return false;
    }
    node.scrollIntoView({ block: "center" });
    node.classList.remove("msg-flash");
    void node.offsetWidth; // restarts the animation when the same message is shown twice
    node.classList.add("msg-flash");
    setTimeout(() => node.classList.remove("msg-flash"), 2500);
    updateJump();
    return true;
  }

  jump.addEventListener("click", () => {
    toBottom();
    $("#composer-input").disabled ? scroller.focus() : pane.focusComposer();
  });

  scroller.addEventListener("scroll", () => {
    const view = pane.view();
    if (!view) return;
    if (isNearBottom()) view.newBelow = 0;
    updateJump();
    if (scroller.scrollTop < 80) pane.loadOlder();
  });

  return { isNearBottom, toBottom, toStart, updateJump, reveal };
}
