import { h } from "../dom.js";

/** Kept for the browser tab's session only: closing the tab forgets it; other tabs ask again. */
const STORAGE_KEY = "brocapi.token";

export function currentToken(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function forgetToken(): void {
  sessionStorage.removeItem(STORAGE_KEY);
  document.dispatchEvent(new Event("brocapi:token"));
}

let asking: Promise<boolean> | null = null;

/**
 * Asks for an API token (the api answered 401 with `WWW-Authenticate: Bearer`), showing the
 * api's own words. Resolves true once one is stored, false if the analyst cancels. Requests
 * refused at the same time share one prompt.
 */
export function askForToken(reason: string): Promise<boolean> {
  asking ??= prompt(reason).finally(() => {
    asking = null;
  });
  return asking;
}

function prompt(reason: string): Promise<boolean> {
  const input = h("input", { id: "token-input", name: "token", type: "password", autocomplete: "off", spellcheck: "false", required: true });
  const dialog = h(
    "dialog",
    { class: "token-dialog", "aria-labelledby": "token-title" },
    h(
      "form",
      { method: "dialog" },
      h("h2", { id: "token-title" }, "This Brocapi needs an API token"),
      h("p", { class: "api-message", role: "alert" }, reason),
      h("label", { for: "token-input" }, "API token"),
      input,
      h("p", { class: "hint" }, "Kept in this browser tab until it is closed; never stored on disk by the page."),
      h("div", { class: "actions" }, h("button", { type: "submit", value: "use", class: "primary" }, "Use token"), h("button", { type: "submit", value: "cancel", formnovalidate: true }, "Cancel")),
    ),
  );
  document.body.append(dialog);
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      const token = input.value.trim();
      const use = dialog.returnValue === "use" && token !== "";
      if (use) sessionStorage.setItem(STORAGE_KEY, token);
      dialog.remove();
      document.dispatchEvent(new Event("brocapi:token"));
      resolve(use);
    });
  });
}
