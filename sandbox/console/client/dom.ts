/**
 * A few helpers to build the page with the DOM itself: every text goes in as a text node, so an
 * identity, a tag or an error message shows as written and is never read as HTML.
 */
import { redactKeys } from '../redact.js';

type Child = Node | string | null | undefined | false;

/** An element with attributes (`class`, `data-*`, `title`...) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | undefined> = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined) element.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child);
  }
  return element;
}

/** An SVG element with attributes. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number> = {},
  ...children: (Node | string)[]
): SVGElementTagNameMap[K] {
  const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.append(...children);
  return element;
}

/** A status as a coloured badge. */
export function badge(status: string | null | undefined): HTMLElement {
  return h('span', { class: `badge ${status ?? ''}` }, status ?? '—');
}

/** Replaces a container's children. */
export function fill(container: Element, ...children: (Child | Child[])[]): void {
  container.replaceChildren(
    ...children.flat().filter((child): child is Node | string => Boolean(child)),
  );
}

/** `1d 02:03:04` or `02:03:04` of virtual time. */
export function duration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const days = Math.floor(total / 86_400);
  const clock = [Math.floor((total % 86_400) / 3600), Math.floor((total % 3600) / 60), total % 60]
    .map((part) => String(part).padStart(2, '0'))
    .join(':');
  return days > 0 ? `${days}d ${clock}` : clock;
}

/** `05:28:10` of an ISO instant, in UTC as the sandbox's clock and logs are. */
export function timeOf(iso: string | null | undefined): string {
  return iso ? iso.slice(11, 19) : '';
}

/**
 * A value as indented JSON in a collapsed block, with every private key hidden again (the
 * sandbox hides them before serving; the page does not rely on that alone).
 */
export function jsonBlock(label: string, value: unknown, key: string, open: Set<string>): Node {
  const details = h(
    'details',
    { 'data-key': key },
    h('summary', {}, label),
    h('pre', {}, JSON.stringify(redactKeys(value), null, 2) ?? 'null'),
  );
  if (open.has(key)) details.open = true;
  details.addEventListener('toggle', () => {
    if (details.open) open.add(key);
    else open.delete(key);
  });
  return details;
}
