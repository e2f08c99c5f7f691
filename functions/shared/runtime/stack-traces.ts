import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Stack traces that name our TypeScript files and lines, mapped only when a stack is formatted.
 *
 * `--enable-source-maps` makes Node read and decode the map of every file it loads, at every
 * cold start, for traces most cold starts never print. Here a frame is mapped when its error's
 * `stack` is first read: the map beside the frame's file (`index.mjs.map` beside `index.mjs`) is
 * read and parsed then, once per file. scripts/build.ts puts map-stack-traces.ts, which installs
 * it, first in every Lambda bundle; the TypeScript sources never import either, so tests of them
 * see V8's own traces.
 */

/** A file's parsed map, or null when it has none (or none that parses): looked up once each. */
const mapsByFile = new Map<string, SourceMap | null>();

/** The map beside `file` (a path or a file: URL), read and parsed on first need. */
function sourceMapOf(file: string): SourceMap | null {
  let map = mapsByFile.get(file);
  if (map !== undefined) return map;
  map = null;
  try {
    const path = file.startsWith('file:') ? fileURLToPath(file) : file;
    if (path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path)) {
      map = new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')));
    }
  } catch {
    // No map, or one that does not parse: the file's frames keep their bundle positions.
  }
  mapsByFile.set(file, map);
  return map;
}

/** Where the map's `source` is, as a path: sources are relative to the map's own location. */
function sourcePath(source: string, file: string): string {
  const base = file.startsWith('file:') ? file : pathToFileURL(file).href;
  const url = new URL(source, `${base}.map`);
  return url.protocol === 'file:' ? fileURLToPath(url) : source;
}

/** An entry of a map, with the `name` Node returns although its types omit it. */
interface MapEntry {
  originalSource?: string;
  originalLine?: number;
  originalColumn?: number;
  name?: string;
}

const entryAt = (map: SourceMap, line: number | null, column: number | null): MapEntry =>
  line === null || column === null ? {} : (map.findEntry(line - 1, column - 1) as MapEntry);

/**
 * One frame as V8 writes it (`new `, `async `, `Type.method [as alias]` and all), with its
 * position replaced by the TypeScript one when its file has a map that covers it. Its function's
 * minified name becomes the source's, as Node's `--enable-source-maps` finds it: the name the
 * map gives the function's start, else the one it gives the call in `caller` (the next frame),
 * when that is in the same file.
 */
export function formatFrame(frame: NodeJS.CallSite, caller?: NodeJS.CallSite): string {
  const text = `${frame}`;
  try {
    const file = frame.getFileName() ?? undefined;
    if (file === undefined) return text;
    const map = sourceMapOf(file);
    if (map === null) return text;
    const line = frame.getLineNumber();
    const column = frame.getColumnNumber();
    const found = entryAt(map, line, column);
    if (found.originalSource === undefined || found.originalLine === undefined) return text;
    const position = `${file}:${line}:${column}`;
    const at = text.lastIndexOf(position);
    if (at === -1) return text;
    const mapped = `${sourcePath(found.originalSource, file)}:${found.originalLine + 1}:${(found.originalColumn ?? 0) + 1}`;
    const head = renamed(text.slice(0, at), frame, map, caller);
    return `${head}${mapped}${text.slice(at + position.length)}`;
  } catch {
    return text;
  }
}

/** The text before a frame's position, its function's name put back as the source had it. */
function renamed(
  head: string,
  frame: NodeJS.CallSite,
  map: SourceMap,
  caller: NodeJS.CallSite | undefined,
): string {
  const minified = frame.getFunctionName();
  if (minified === null || minified === '') return head;
  const original =
    entryAt(map, frame.getEnclosingLineNumber(), frame.getEnclosingColumnNumber()).name ??
    (caller !== undefined && caller.getFileName() === frame.getFileName()
      ? entryAt(map, caller.getLineNumber(), caller.getColumnNumber()).name
      : undefined);
  if (original === undefined || original === minified) return head;
  // V8 writes `[async |new ][Type.]name[ [as alias]] (`: only a name in that place is replaced.
  const match = /^((?:async |new )?(?:[^\s(]+\.)?)([^\s(.[]+)((?: \[as [^\]]*\])? \()$/.exec(head);
  if (match === null || match[2] !== minified) return head;
  return `${match[1]}${original}${match[3]}`;
}

/**
 * The first line of a stack as V8 writes it: the error's `toString()` as Error.prototype has it
 * (`name: message`, or one of them), `<error: …>` naming what that threw, or `<error>`.
 */
export function errorHeader(error: unknown): string {
  try {
    return Error.prototype.toString.call(error);
  } catch (thrown) {
    try {
      return `<error: ${Error.prototype.toString.call(thrown)}>`;
    } catch {
      return '<error>';
    }
  }
}

/** `Error.prepareStackTrace` that maps our frames; it never throws. */
export function formatStackTrace(error: unknown, frames: readonly NodeJS.CallSite[]): string {
  const lines = frames.map((frame, index) => `    at ${formatFrame(frame, frames[index + 1])}`);
  return [errorHeader(error), ...lines].join('\n');
}

/**
 * Maps stack traces when they are formatted, unless Node maps them already
 * (`--enable-source-maps`, or `process.setSourceMapsEnabled(true)`).
 */
export function mapStackTracesWhenFormatted(): void {
  if (process.sourceMapsEnabled) return;
  Error.prepareStackTrace = formatStackTrace;
}
