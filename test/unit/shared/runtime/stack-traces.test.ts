import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { encode, type SourceMapSegment } from '@jridgewell/sourcemap-codec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHeader, formatFrame, formatStackTrace } from '#shared/runtime/stack-traces.js';

/**
 * A bundle as the build writes one, its map beside it: each line of code is mapped from line
 * `10 × index + 1` of src/bundled.ts, except `theirs`, a dependency's code (a one-field segment,
 * as ourMappingsOnly leaves it), and the call of `a` in `callsA`, which the map names.
 */
const BUNDLE = [
  "export class Widget { constructor() { throw new Error('widget'); } }",
  "export async function later() { await null; throw new Error('later'); }",
  'export async function awaitsLater() { await later(); }',
  "export function theirs() { throw new Error('theirs'); }",
  "function a() { throw new Error('renamed'); }",
  'export function callsA() { return a(); }',
];
const NO_MAP = "export function unmapped() { throw new Error('no map'); }\n";

const framesByError = new WeakMap<Error, NodeJS.CallSite[]>();

/**
 * The CallSites of an error's stack, as V8 hands them to Error.prepareStackTrace (once: V8 keeps
 * the string it made).
 */
function framesOf(error: Error): NodeJS.CallSite[] {
  const known = framesByError.get(error);
  if (known !== undefined) return known;
  const previous = Error.prepareStackTrace;
  let frames: NodeJS.CallSite[] = [];
  Error.prepareStackTrace = (_error, callSites) => {
    frames = callSites;
    return '';
  };
  try {
    void error.stack;
  } finally {
    Error.prepareStackTrace = previous;
  }
  framesByError.set(error, frames);
  return frames;
}

const thrown = async (run: () => unknown): Promise<Error> => {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('did not throw');
};

describe('formatStackTrace', () => {
  let dir: string;
  let bundle: Record<string, () => unknown>;
  let noMap: Record<string, () => unknown>;
  let bundleUrl: string;
  let importAsNodeDoes: (url: string) => Promise<Record<string, () => unknown>>;
  let source: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stack-traces-'));
    const lines: SourceMapSegment[][] = BUNDLE.map((_, index) =>
      index === 3 ? [[0]] : [[0, 0, index * 10, 0]],
    );
    lines[5]?.push([BUNDLE[5]?.indexOf('a()') ?? 0, 0, 51, 9, 0]);
    writeFileSync(join(dir, 'bundle.mjs'), `${BUNDLE.join('\n')}\n`);
    writeFileSync(
      join(dir, 'bundle.mjs.map'),
      JSON.stringify({
        version: 3,
        sources: ['src/bundled.ts'],
        names: ['throwsRenamed'],
        mappings: encode(lines),
      }),
    );
    writeFileSync(join(dir, 'no-map.mjs'), NO_MAP);
    writeFileSync(join(dir, 'broken.mjs'), NO_MAP);
    writeFileSync(join(dir, 'broken.mjs.map'), '{"version": 3, "mappings": ');
    // Node's own import(), from a CommonJS file required as Node requires it: the test runner
    // would otherwise transform the modules, and their lines with them.
    writeFileSync(join(dir, 'import.cjs'), 'module.exports = (url) => import(url);');
    importAsNodeDoes = createRequire(import.meta.url)(join(dir, 'import.cjs'));
    bundleUrl = pathToFileURL(join(dir, 'bundle.mjs')).href;
    source = join(dir, 'src', 'bundled.ts');
    bundle = await importAsNodeDoes(bundleUrl);
    noMap = await importAsNodeDoes(pathToFileURL(join(dir, 'no-map.mjs')).href);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const stackOf = (error: Error) => formatStackTrace(error, framesOf(error)).split('\n');

  it('names the TypeScript file and line of a mapped frame, and keeps "new" before it', async () => {
    const error = await thrown(() => new (bundle.Widget as unknown as new () => unknown)());
    expect(stackOf(error).slice(0, 2)).toEqual([
      'Error: widget',
      `    at new Widget (${source}:1:1)`,
    ]);
  });

  it('keeps "async" on the frames an await resumed', async () => {
    const error = await thrown(bundle.awaitsLater as () => unknown);
    expect(stackOf(error).slice(0, 3)).toEqual([
      'Error: later',
      `    at later (${source}:11:1)`,
      `    at async awaitsLater (${source}:21:1)`,
    ]);
  });

  it('gives a minified function the name the map gives its call, as Node does', async () => {
    const error = await thrown(bundle.callsA as () => unknown);
    expect(stackOf(error).slice(0, 3)).toEqual([
      'Error: renamed',
      `    at throwsRenamed (${source}:41:1)`,
      `    at callsA (${source}:52:10)`,
    ]);
  });

  it("leaves a frame the map does not cover (a dependency's code) as V8 writes it", async () => {
    const error = await thrown(bundle.theirs as () => unknown);
    const [frame] = framesOf(error);
    expect(String(frame)).toMatch(/^theirs \(file:.*\/bundle\.mjs:4:\d+\)$/);
    expect(stackOf(error)[1]).toBe(`    at ${frame}`);
  });

  it('leaves the frames of a file with no map, or a map that does not parse, as V8 writes them', async () => {
    const broken = await importAsNodeDoes(pathToFileURL(join(dir, 'broken.mjs')).href);
    for (const unmapped of [noMap.unmapped, broken.unmapped]) {
      const error = await thrown(unmapped as () => unknown);
      const frames = framesOf(error);
      expect(String(frames[0])).toMatch(/\.mjs:1:\d+\)$/);
      expect(stackOf(error)).toEqual([
        'Error: no map',
        ...frames.map((frame) => `    at ${frame}`),
      ]);
    }
  });

  it("leaves this test's own frames, in files with no map beside them, as V8 writes them", async () => {
    const error = new Error('here');
    const frames = framesOf(error);
    expect(stackOf(error)).toEqual(['Error: here', ...frames.map((frame) => `    at ${frame}`)]);
  });

  it('falls back to the frame as V8 writes it when reading the frame fails', () => {
    const frame = {
      toString: () => 'broken (file:///var/task/index.mjs:1:2)',
      getFileName: () => {
        throw new Error('no file name');
      },
    } as unknown as NodeJS.CallSite;
    expect(formatFrame(frame)).toBe('broken (file:///var/task/index.mjs:1:2)');
  });
});

describe('errorHeader', () => {
  class ConflictError extends Error {
    override name = 'ConflictError';
  }
  const withName = (name: string, message: string) =>
    Object.assign(new Error(message), { name }) as Error;

  it.each([
    ['a named error', new ConflictError('exists'), 'ConflictError: exists'],
    ['an empty message', new TypeError(''), 'TypeError'],
    ['an empty name', withName('', 'only the message'), 'only the message'],
    ['an object given a stack by captureStackTrace', {}, 'Error'],
  ])('writes %s as V8 does', (_, error, header) => {
    expect(errorHeader(error)).toBe(header);
  });

  it("writes what a throwing message getter threw, as V8's own formatter does, instead of throwing", () => {
    const error = new Error('hidden');
    Object.defineProperty(error, 'message', {
      get() {
        throw new RangeError('no message');
      },
    });
    expect(errorHeader(error)).toBe('<error: RangeError: no message>');
    expect(formatStackTrace(error, framesOf(new Error('frames'))).split('\n')[0]).toBe(
      '<error: RangeError: no message>',
    );
  });

  it('writes <error> when what the getter threw cannot be written either', () => {
    const error = new Error('hidden');
    Object.defineProperty(error, 'message', {
      get() {
        throw 'a string';
      },
    });
    expect(errorHeader(error)).toBe('<error>');
  });
});
