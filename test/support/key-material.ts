/** How many consecutive characters of a key's base64 body count as "part of the key". */
const WINDOW = 16;

/**
 * True when `text` holds any 16 consecutive characters of the key's base64 body (PEM armour and
 * line breaks aside): a cut, re-wrapped or embedded key is found as surely as a whole one.
 */
export function holdsKey(text: string, key: string): boolean {
  const body = key.replace(/-----[^-]+-----|\s/g, '');
  const windows = new Set<string>();
  for (let i = 0; i + WINDOW <= text.length; i += 1) windows.add(text.slice(i, i + WINDOW));
  for (let i = 0; i + WINDOW <= body.length; i += 1) {
    if (windows.has(body.slice(i, i + WINDOW))) return true;
  }
  return false;
}
