// Menus and popovers that open from a button. One is open at a time;
// Escape or a click elsewhere closes it, and Escape gives the focus back to
// its button.

const openMenus = new Set();

/**
 * Wires `button` to show and hide `panel`; returns {open, close, isOpen}.
 * `onOpen` runs before the panel takes the focus, `onClose` once it is shut.
 * `show(on)` replaces toggling `hidden` (for a panel that is a popover on
 * small screens only).
 */
export function menu(button, panel, { onOpen, onClose, show } = {}) {
  const shown = () => (show ? panel.dataset.open === "true" : !panel.hidden);
  const set = show || ((on) => (panel.hidden = !on));
  const self = {
    open() {
      for (const other of [...openMenus]) if (other !== self) other.close(false);
      button.setAttribute("aria-expanded", "true");
      set(true);
      openMenus.add(self);
      onOpen?.();
      panel.querySelector("button:not(:disabled), [href], input, [tabindex='0']")?.focus();
    },
    close(returnFocus = true) {
      if (!shown()) return;
      button.setAttribute("aria-expanded", "false");
      set(false);
      openMenus.delete(self);
      if (returnFocus) button.focus();
      onClose?.();
    },
    isOpen: shown,
    contains: (node) => button.contains(node) || panel.contains(node),
  };
  button.addEventListener("click", () => (shown() ? self.close() : self.open()));
  return self;
}

document.addEventListener("keydown", (ev) => {
  if (ev.key !== "Escape" || !openMenus.size) return;
  ev.preventDefault();
  for (const m of [...openMenus]) m.close(true);
});

document.addEventListener("click", (ev) => {
  for (const m of [...openMenus]) if (!m.contains(ev.target)) m.close(false);
});

export function closeMenus() {
  for (const m of [...openMenus]) m.close(false);
}
