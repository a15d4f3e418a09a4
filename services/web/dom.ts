/** Something `h` can put inside an element; null, undefined and false are left out. */
export type Child = Node | string | number | null | undefined | false | readonly Child[];
type AttrValue = string | number | boolean | null | undefined;
type Attrs = Record<string, AttrValue | ((event: Event) => void)>;

/**
 * Builds an element: `h("a", { href, class: "button", onclick }, "text", child)`. Attributes
 * named `on…` become listeners; `true` sets a boolean attribute, false/null/undefined leave it out.
 * Text is always set as text, never parsed as HTML.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, "");
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(el: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/**
 * A box that scrolls a wide table sideways; focusable and named, so keyboard users can scroll
 * it too (WCAG 2.1.1).
 */
export function scrollBox(label: string, ...children: Child[]): HTMLDivElement {
  return h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": label }, ...children);
}

/** A table of records in a {@link scrollBox}: column headings (numeric ones right-aligned), then the rows. */
export function dataTable(label: string, columns: ReadonlyArray<string | { label: string; num: true }>, rows: Child[]): HTMLDivElement {
  const head = columns.map((c) => (typeof c === "string" ? h("th", { scope: "col" }, c) : h("th", { scope: "col", class: "num" }, c.label)));
  return scrollBox(label, h("table", null, h("thead", null, h("tr", null, head)), h("tbody", null, rows)));
}
