// Menus and popovers that open from a button. One is open at a time;
// Escape or a click elsewhere closes it, and Escape gives the focus back to
// its button.

const openMenus = new Set();

/** Wires `button` to show and hide `panel`; returns {open, close, isOpen}. */
export function menu(button, panel, { onOpen } = {}) {
  const self = {
    open() {
      for (const other of [...openMenus]) if (other !== self) other.close(false);
      button.setAttribute("aria-expanded", "true");
      panel.hidden = false;
      openMenus.add(self);
      onOpen?.();
      panel.querySelector("button:not(:disabled), [href], input, [tabindex='0']")?.focus();
    },
    close(returnFocus = true) {
      if (panel.hidden) return;
      button.setAttribute("aria-expanded", "false");
      panel.hidden = true;
      openMenus.delete(self);
      if (returnFocus) button.focus();
    },
    isOpen: () => !panel.hidden,
    contains: (node) => button.contains(node) || panel.contains(node),
  };
  button.addEventListener("click", () => (panel.hidden ? self.open() : self.close()));
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
