import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode } from '@jridgewell/sourcemap-codec';
import { build, type Plugin } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertUniqueNames,
  builtFunctionName,
  builtinsOnFirstUse,
  builtinsThroughRequire,
  codeUriOf,
  lambdaBuildOptions,
  namedImports,
  ourMappingsOnly,
  sourceFolderOf,
  withoutSideEffects,
} from '#scripts/build.js';

const ours = (source: string) => source.startsWith('functions/');

describe('ourMappingsOnly', () => {
  const map = {
    version: 3,
    sources: ['node_modules/sdk/a.js', 'functions/steps/x/handler.ts', 'node_modules/sdk/b.js'],
    names: ['send', 'handler', 'parse'],
    mappings: encode([
      // line 0: SDK code, then ours, then SDK again
      [
        [0, 0, 10, 0, 0],
        [5, 0, 11, 2],
        [9, 1, 3, 4, 1],
        [20, 1, 4, 0],
        [30, 2, 7, 0, 2],
      ],
      // line 1: only SDK code
      [[0, 2, 1, 0]],
      // line 2: ours only
      [[0, 1, 8, 2]],
    ]),
  };

  it('keeps the mappings of our sources and ends each stretch of dependency code with a bare segment', () => {
    const reduced = ourMappingsOnly(map, ours);
    expect(reduced?.sources).toEqual(['functions/steps/x/handler.ts']);
    expect(reduced?.names).toEqual(['handler']);
    expect(decode(reduced?.mappings ?? '')).toEqual([
      [[0], [9, 0, 3, 4, 0], [20, 0, 4, 0], [30]],
      [[0]],
      [[0, 0, 8, 2]],
    ]);
  });

  it('gives no map for a file that holds none of our code', () => {
    expect(ourMappingsOnly(map, () => false)).toBeUndefined();
  });
});

describe('function names and CodeUri', () => {
  const folders = ['functions/api/get-identity-status', 'functions/steps/create-identity'];

  it('names dist/<name>/ after the source folder, and maps it back', () => {
    expect(codeUriOf('functions/steps/create-identity')).toBe('dist/create-identity/');
    expect(sourceFolderOf('dist/create-identity/', folders)).toBe(
      'functions/steps/create-identity',
    );
    expect(sourceFolderOf('./dist/create-identity', folders)).toBe(
      'functions/steps/create-identity',
    );
  });

  it.each([
    'functions/steps/create-identity/',
    'dist/create-identity/chunks/',
    'dist/unknown/',
    'dist/',
  ])('maps %s to no function folder', (codeUri) => {
    expect(sourceFolderOf(codeUri, folders)).toBeUndefined();
  });

  it('maps a name two rooms share to no folder, and the build refuses it', () => {
    const twins = ['functions/api/sweeper', 'functions/jobs/sweeper'];
    expect(builtFunctionName('dist/sweeper/')).toBe('sweeper');
    expect(sourceFolderOf('dist/sweeper/', twins)).toBeUndefined();
    expect(() => assertUniqueNames(twins)).toThrow(
      'functions/api/sweeper and functions/jobs/sweeper share the name sweeper: rename one',
    );
  });
});

describe('namedImports', () => {
  it.each([
    ["import { randomInt } from 'node:crypto';", 'node:crypto', ['randomInt']],
    [
      'import { b as c, a } from "node:stream";\nimport {d} from "node:stream"',
      'node:stream',
      ['a', 'b', 'd'],
    ],
    ["import { ReadableStream } from 'node:stream/web';", 'node:stream', undefined],
    ["import http from 'node:http';", 'node:http', undefined],
    ["import * as stream from 'node:stream';", 'node:stream', undefined],
    ["import stream, { Readable } from 'node:stream';", 'node:stream', undefined],
    [
      "import { Readable } from 'node:stream'; export * from 'node:stream';",
      'node:stream',
      undefined,
    ],
    ["import 'node:stream'; import { Readable } from 'node:stream';", 'node:stream', undefined],
  ])('reads %j as importing from %s the names %j', (source, specifier, names) => {
    expect(namedImports(source, specifier)).toEqual(names);
  });
});

describe('builtinsOnFirstUse', () => {
  let dir: string;
  /** Bundles `source` (which imports the package `streamer`) as a Lambda is built. */
  const bundle = (table: Record<string, readonly string[]>, streamer: string) => {
    writeFileSync(join(dir, 'node_modules', 'streamer', 'index.js'), streamer);
    const options = lambdaBuildOptions(join(dir, 'entry.mjs'), join(dir, 'out'));
    return build({
      ...options,
      sourcemap: false,
      metafile: false,
      logLevel: 'silent',
      plugins: [builtinsOnFirstUse(table), builtinsThroughRequire],
    });
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'on-first-use-'));
    mkdirSync(join(dir, 'node_modules', 'streamer'), { recursive: true });
    writeFileSync(
      join(dir, 'node_modules', 'streamer', 'package.json'),
      '{"name":"streamer","type":"module","main":"index.js"}',
    );
    writeFileSync(
      join(dir, 'entry.mjs'),
      [
        "import { isStream } from 'streamer';",
        "const loaded = () => process.moduleLoadList.includes('NativeModule stream/web');",
        'const atStart = loaded();',
        'const plain = isStream({});',
        'const afterCall = loaded();',
        // The global ReadableStream is read only now, after the facade has loaded the module.
        'const stream = isStream(new ReadableStream());',
        'console.log(JSON.stringify({ atStart, plain, afterCall, stream }));',
      ].join('\n'),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a listed built-in when a name imported from it is first read, and it works as imported', async () => {
    await bundle(
      { streamer: ['node:stream/web'] },
      "import { ReadableStream } from 'node:stream/web';\nexport const isStream = (value) => value instanceof ReadableStream;",
    );
    const run = spawnSync(process.execPath, [join(dir, 'out', 'index.mjs')], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      atStart: false,
      plain: false,
      afterCall: true,
      stream: true,
    });
  });

  it('fails the build when a listed package imports the built-in whole', async () => {
    await expect(
      bundle(
        { streamer: ['node:stream/web'] },
        "import web from 'node:stream/web';\nexport const isStream = (value) => value instanceof web.ReadableStream;",
      ),
    ).rejects.toThrow(/streamer no longer imports node:stream\/web by name/);
  });
});

describe('builtinsThroughRequire', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'through-require-'));
    // Loaded first (`node -r`): records every export of `util` whose descriptor is read, which
    // on Node 22 loads the code behind a lazy export (worker_threads behind util.setTraceSigInt).
    writeFileSync(
      join(dir, 'watch.cjs'),
      [
        "const util = require('node:util');",
        'const read = Object.getOwnPropertyDescriptor;',
        'globalThis.utilDescriptorsRead = [];',
        'Object.getOwnPropertyDescriptor = (target, key) => {',
        '  if (target === util) globalThis.utilDescriptorsRead.push(key);',
        '  return read(target, key);',
        '};',
      ].join('\n'),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (entry: string) => {
    writeFileSync(join(dir, 'entry.mjs'), entry);
    await build({
      ...lambdaBuildOptions(join(dir, 'entry.mjs'), join(dir, 'out')),
      sourcemap: false,
      metafile: false,
      logLevel: 'silent',
      plugins: [builtinsThroughRequire],
    });
    const result = spawnSync(
      process.execPath,
      ['-r', join(dir, 'watch.cjs'), join(dir, 'out', 'index.mjs')],
      { encoding: 'utf8' },
    );
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout) as { read: string[]; works: boolean };
  };

  it('gives a built-in imported by name those names alone, and they work as imported', async () => {
    const result = await run(
      [
        "import { promisify, inspect } from 'node:util';",
        'const wait = promisify((ms, done) => setTimeout(done, ms));',
        'await wait(1);',
        "const works = inspect({ a: 1 }) === '{ a: 1 }';",
        'console.log(JSON.stringify({ read: globalThis.utilDescriptorsRead, works }));',
      ].join('\n'),
    );
    expect(result).toEqual({ read: [], works: true });
  });

  it('gives a built-in imported whole as it is (and esbuild then copies every export)', async () => {
    const result = await run(
      [
        "import util from 'node:util';",
        'const works = typeof util.promisify === "function";',
        'console.log(JSON.stringify({ read: globalThis.utilDescriptorsRead, works }));',
      ].join('\n'),
    );
    expect(result.works).toBe(true);
    expect(result.read).toContain('promisify');
  });
});

describe('withoutSideEffects', () => {
  it("leaves out the top-level code of jsonc-parser's modules that its parser does not use", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'side-effects-'));
    try {
      writeFileSync(
        join(dir, 'entry.mjs'),
        "import { visit } from 'jsonc-parser';\nvisit('{}', {});\n",
      );
      const bundle = async (plugins: Plugin[]) => {
        const result = await build({
          ...lambdaBuildOptions(join(dir, 'entry.mjs'), join(dir, 'out')),
          nodePaths: [join(process.cwd(), 'node_modules')],
          sourcemap: false,
          logLevel: 'silent',
          write: false,
          plugins,
        });
        return result.outputFiles.map((file) => file.text).join('\n');
      };
      // The formatter's whitespace caches: `new Array(20).fill(0).map(...)` in impl/string-intern.
      const formatterCaches = /new Array\(20\)\.fill\(0\)/;
      expect(await bundle([])).toMatch(formatterCaches);
      const shaken = await bundle([withoutSideEffects()]);
      expect(shaken).not.toMatch(formatterCaches);
      expect(shaken).toMatch(/onObjectBegin|onError/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
