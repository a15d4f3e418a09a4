import { h } from "./dom.js";

/** A modal yes/no question; Cancel has the focus, so Enter or Escape never destroys anything. */
export function confirmDialog(title: string, text: string, confirmLabel: string): Promise<boolean> {
  const cancel = h("button", { type: "submit", value: "cancel", autofocus: true }, "Cancel");
  const dialog = h(
    "dialog",
    { class: "confirm-dialog", "aria-labelledby": "confirm-title", "aria-describedby": "confirm-text" },
    h("form", { method: "dialog" }, h("h2", { id: "confirm-title" }, title), h("p", { id: "confirm-text" }, text), h("div", { class: "actions" }, cancel, h("button", { type: "submit", value: "confirm", class: "danger" }, confirmLabel))),
  );
  document.body.append(dialog);
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "confirm");
    });
  });
}
