/**
 * `npm run build`: bundles every Lambda (functions/<room>/<name>/handler.ts) into dist/<name>/,
 * the folder that function's CodeUri names in template.yaml, ready for `sam build`:
 *
 *   dist/<name>/index.mjs            the handler module (Handler: index.handler)
 *   dist/<name>/chunks/*.mjs         code the handler loads only when it needs it
 *   dist/<name>/*.map                source maps of our code (functions/), without the sources
 *   dist/<name>/on-first-call/*.cjs  packages required only when first called (tr46)
 *   dist/<name>/package.json         what SAM's Node.js builder needs to copy the folder as it is,
 *                                    with the `imports` that find on-first-call/
 *
 * Why our own build rather than SAM's esbuild BuildMethod: cold start. esbuild's code splitting
 * turns every dynamic `import()` into a chunk that is read only if it runs, and the AWS SDK loads
 * its other credential providers (SSO, STS, the INI files, IMDS) that way; in Lambda the
 * credentials come from the environment, so those chunks never load. Splitting needs ESM and an
 * output folder, which SAM's BuildProperties cannot express. `npm run bench` measures the result.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { decode, encode, type SourceMapSegment } from '@jridgewell/sourcemap-codec';
import { type BuildOptions, build, type Metafile, type OutputFile, type Plugin } from 'esbuild';
import { functionFolders } from './lib/function-folders.js';

/** Where `npm run build` writes, and where each function's CodeUri points. */
export const DIST_DIR = 'dist';

/** The module the Handler names: `index.handler` is the `handler` export of index.mjs. */
export const HANDLER_MODULE = 'index';

/**
 * Node's built-in modules reach ESM code through require(), as they reach CommonJS code.
 * An ESM `import` of a built-in makes Node build its namespace from every export, and reading
 * `http`'s lazy `WebSocket` export loads undici, the whole fetch implementation: about as much
 * time again as a bare Node start (nodejs/node#59686). Powertools' tracer imports `http` that
 * way, and the SDK's HTTP handler does with import() for a plain-HTTP endpoint. Through require()
 * the module object is used as it is and undici never loads.
 *
 * Where the importer names what it imports (`import { promisify } from 'node:util'`), the
 * module it gets holds those names alone, each read from the built-in when used. esbuild's
 * CommonJS interop copies a module's exports by reading the descriptor of every one, and Node 22
 * defines some lazy exports as V8 lazy data properties, which load their code when their
 * descriptor is read: copying `util` whole loaded `worker_threads`, `parseArgs` and `diff` with
 * 11 other internal modules, about 9 ms of CPU at every cold start of a function that
 * validates a request (Node 20 defines them as getters, whose descriptors load nothing).
 */
export const builtinsThroughRequire: Plugin = {
  name: 'builtins-through-require',
  setup(build) {
    const namespace = 'builtin-through-require';
    build.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      if (args.kind !== 'import-statement' && args.kind !== 'dynamic-import') return undefined;
      if (!isBuiltin(args.path)) return undefined;
      const names =
        args.kind === 'import-statement' && args.namespace === 'file'
          ? namedImports(readFileSync(args.importer, 'utf8'), args.path)
          : undefined;
      return names === undefined
        ? { path: args.path, namespace }
        : { path: `${args.path}?${names.join(',')}`, namespace, pluginData: names };
    });
    build.onLoad({ filter: /.*/, namespace }, (args) => {
      const names = args.pluginData as string[] | undefined;
      if (names === undefined) {
        return {
          contents: `module.exports = require(${JSON.stringify(args.path)});`,
          loader: 'js',
        };
      }
      const builtin = JSON.stringify(args.path.slice(0, args.path.indexOf('?')));
      const getters = names.map(
        (name) =>
          `${JSON.stringify(name)}: { get: () => builtin[${JSON.stringify(name)}], enumerable: true }`,
      );
      return {
        contents: [
          `const builtin = require(${builtin});`,
          `Object.defineProperties(module.exports, { ${getters.join(', ')} });`,
        ].join('\n'),
        loader: 'js',
      };
    });
  },
};

/**
 * Built-in modules that a package imports at its top but uses only on a path our functions never
 * take, by the package that imports them: each is loaded when one of the names imported is first
 * read, not at cold start. Powertools' Logger imports node:crypto for randomInt alone, which only
 * samples debug logs (POWERTOOLS_LOGGER_SAMPLE_RATE); middy imports three stream modules for
 * streamed responses (streamifyResponse), which no function of ours uses. In a function with no
 * SDK client, which loads neither otherwise, they were a third of a bare Node start.
 */
export const BUILTINS_ON_FIRST_USE: Readonly<Record<string, readonly string[]>> = {
  '@aws-lambda-powertools/logger': ['node:crypto'],
  '@middy/core': ['node:stream', 'node:stream/promises', 'node:stream/web'],
};

/** The names an ES module imports from `specifier` with `import { a, b as c } from`, else none. */
export function namedImports(source: string, specifier: string): string[] | undefined {
  const quoted = `["']${specifier.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}["']`;
  const from = `\\s*from\\s*${quoted}`;
  const binding = '[\\w$]+';
  // A default or namespace import, a re-export or an import for effect reads the module whole.
  const whole = [
    `import\\s+${binding}\\s*(?:,\\s*(?:\\{[^}]*\\}|\\*\\s*as\\s+${binding}))?${from}`,
    `import\\s*\\*\\s*as\\s+${binding}${from}`,
    `export\\s*(?:\\*(?:\\s*as\\s+${binding})?|\\{[^}]*\\})${from}`,
    `import\\s*${quoted}`,
  ];
  if (whole.some((pattern) => new RegExp(pattern).test(source))) return undefined;
  const named = [...source.matchAll(new RegExp(`import\\s*\\{([^}]*)\\}${from}`, 'g'))];
  if (named.length === 0) return undefined;
  const names = named.flatMap(([, list = '']) =>
    list
      .split(',')
      .map((item) => item.trim().split(/\s+as\s+/)[0] ?? '')
      .filter((name) => name !== ''),
  );
  return [...new Set(names)].sort();
}

/**
 * The built-ins of `table`, where the package named imports them, become a CommonJS module of
 * getters that require() the built-in when a name is first read (esbuild reads a CommonJS
 * module's exports only where they are used). A package that imports one of them whole, or in a
 * way this does not read, fails the build rather than loading it at cold start unseen.
 */
export function builtinsOnFirstUse(
  table: Readonly<Record<string, readonly string[]>> = BUILTINS_ON_FIRST_USE,
): Plugin {
  return {
    name: 'builtins-on-first-use',
    setup(build) {
      const namespace = 'builtin-on-first-use';
      build.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
        if (args.kind !== 'import-statement') return undefined;
        const importer = args.importer.split(sep).join('/');
        const pkg = Object.keys(table).find((name) => importer.includes(`/node_modules/${name}/`));
        if (pkg === undefined || !table[pkg]?.includes(args.path)) return undefined;
        const names = namedImports(readFileSync(args.importer, 'utf8'), args.path);
        if (names === undefined) {
          return {
            errors: [
              {
                text: `${pkg} no longer imports ${args.path} by name: it cannot be loaded on first use`,
              },
            ],
          };
        }
        return { path: `${args.path}?${names.join(',')}`, namespace, pluginData: names };
      });
      build.onLoad({ filter: /.*/, namespace }, (args) => {
        const builtin = JSON.stringify(args.path.slice(0, args.path.indexOf('?')));
        const getters = (args.pluginData as string[]).map(
          (name) =>
            `${JSON.stringify(name)}: { get: () => load()[${JSON.stringify(name)}], enumerable: true }`,
        );
        return {
          contents: [
            'let loaded;',
            `const load = () => (loaded ??= require(${builtin}));`,
            `Object.defineProperties(module.exports, { ${getters.join(', ')} });`,
          ].join('\n'),
          loader: 'js',
        };
      });
    },
  };
}

/**
 * CommonJS packages a Lambda loads on first call rather than at cold start, each with the
 * functions our code calls: tr46, the IDNA mapping tables (233 KB, the largest thing most of our
 * bundles held), serves only names with a non-ASCII character or an A-label.
 */
export const LOAD_ON_FIRST_CALL: Readonly<Record<string, readonly string[]>> = {
  tr46: ['toASCII', 'toUnicode'],
  // The X-Ray SDK's patcher for the AWS SDK v2 checks that SDK's version with it; we trace the
  // v3 clients (captureAWSv3Client), so it never runs, and is 28 KB the X-Ray SDK would load.
  semver: ['gte'],
};

/** The subpath import (package.json `imports`) a package loaded on first call is found by. */
const onFirstCallImport = (name: string) => `#on-first-call/${name}`;

/** Where a package loaded on first call is written, in the function's folder. */
const onFirstCallFile = (name: string) => `./on-first-call/${name}.cjs`;

/**
 * Each package of LOAD_ON_FIRST_CALL imported by our code becomes a module of functions that
 * require() the package on their first call, from a file of its own beside the bundle (its
 * subpath import in the function's package.json). A chunk of esbuild's code splitting would be
 * loaded the same way, but only by an `import()`, and the request model is synchronous; a
 * package left in the bundle, even unevaluated, is still read and parsed at every cold start.
 * `used` collects the packages the bundle needs written.
 */
export function loadedOnFirstCall(used: Set<string>, eager: readonly string[] = []): Plugin {
  const names = Object.keys(LOAD_ON_FIRST_CALL).filter((name) => !eager.includes(name));
  return {
    name: 'loaded-on-first-call',
    setup(build) {
      const namespace = 'loaded-on-first-call';
      build.onResolve({ filter: new RegExp(`^(?:${names.join('|')})$`) }, (args) => {
        if (args.kind !== 'import-statement' && args.kind !== 'require-call') return undefined;
        used.add(args.path);
        return { path: args.path, namespace };
      });
      build.onLoad({ filter: /.*/, namespace }, (args) => {
        const functions = LOAD_ON_FIRST_CALL[args.path] ?? [];
        const specifier = JSON.stringify(onFirstCallImport(args.path));
        return {
          contents: [
            "import { createRequire } from 'node:module';",
            'let loaded;',
            `const load = () => (loaded ??= createRequire(import.meta.url)(${specifier}));`,
            ...functions.map((fn) => `export const ${fn} = (...args) => load().${fn}(...args);`),
          ].join('\n'),
          loader: 'js',
        };
      });
    },
  };
}

/** Writes each package loaded on first call into `outdir` as one CommonJS file. */
async function writeLoadedOnFirstCall(used: Iterable<string>, outdir: string): Promise<void> {
  for (const name of used) {
    await build({
      stdin: {
        contents: `module.exports = require(${JSON.stringify(name)});`,
        resolveDir: process.cwd(),
      },
      outfile: join(outdir, onFirstCallFile(name)),
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node22',
      minify: true,
      logLevel: 'warning',
    });
  }
}

/**
 * zod's locales reduced to English, the one our messages are in. The schemas import zod/mini as a
 * namespace (`import * as z from 'zod/mini'`), which lets esbuild drop the locales: 21 KB of zod
 * in a bundle. `import { z } from 'zod/mini'` (or `z.locales`) would keep every locale, 417 KB,
 * and 162 KB with this; it stays as a guard.
 */
export const zodInEnglishOnly: Plugin = {
  name: 'zod-in-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), '..', 'locales', 'en.js'), namespace: 'zod-en' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

/**
 * Packages whose modules do nothing when imported but define what they export, and which do not
 * say so (package.json `sideEffects: false`), so esbuild keeps the top-level code of modules
 * none of their used exports needs. jsonc-parser's main module imports its formatter, whose
 * string caches (hundreds of whitespace strings) were built at every cold start of an API
 * function, which calls only its parser.
 */
export const WITHOUT_SIDE_EFFECTS: readonly string[] = ['jsonc-parser'];

export function withoutSideEffects(packages: readonly string[] = WITHOUT_SIDE_EFFECTS): Plugin {
  return {
    name: 'without-side-effects',
    setup(build) {
      const inPackage = (path: string) =>
        packages.some((name) => path.split(sep).join('/').includes(`/node_modules/${name}/`));
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === 'without-side-effects') return undefined;
        if (!packages.includes(args.path) && !inPackage(args.importer)) return undefined;
        const { path, external, namespace, errors } = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: 'without-side-effects',
        });
        if (errors.length > 0 || external || !inPackage(path)) return undefined;
        return { path, namespace, sideEffects: false };
      });
    },
  };
}

/** The module whose side effect maps stack traces when they are formatted, in every Lambda. */
export const STACK_TRACES_MODULE = resolve('functions/shared/runtime/map-stack-traces.ts');

/**
 * Each entry point becomes a module that imports STACK_TRACES_MODULE, then re-exports the
 * handler module: ES modules evaluate in import order, so stack traces are mapped before any of
 * the handler's modules run, and the code stays in index.mjs. (esbuild's `inject` would add it to
 * every chunk that an import() loads too, and so put it in a chunk of its own, one more file read
 * at cold start.) The TypeScript sources never import it: tests of them see V8's own traces.
 */
export const stackTracesMappedFirst: Plugin = {
  name: 'stack-traces-mapped-first',
  setup(build) {
    const namespace = 'lambda-entry';
    build.onResolve({ filter: /.*/ }, (args) =>
      args.kind === 'entry-point'
        ? { path: resolve(args.resolveDir, args.path), namespace }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace }, (args) => ({
      contents: [
        `import ${JSON.stringify(STACK_TRACES_MODULE)};`,
        `export * from ${JSON.stringify(args.path)};`,
      ].join('\n'),
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

/**
 * The esbuild settings every Lambda bundle is built with; the cold-start benchmark builds its
 * floor bundles (only the SDK clients) with the same settings, so that they compare.
 */
export function lambdaBuildOptions(entry: string, outdir: string): BuildOptions {
  return {
    entryPoints: { [HANDLER_MODULE]: entry },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    // The SDK and Powertools ship ESM builds; the ESM build is the one esbuild can shake.
    mainFields: ['module', 'main'],
    minify: true,
    // Maps give logged stack traces our file names and lines (stackTracesMappedFirst): a map is
    // read and parsed when a stack through its file is first formatted, not at cold start. They
    // carry no sources, and bundleInto() keeps only the mappings of our own code.
    sourcemap: 'linked',
    sourcesContent: false,
    // CommonJS dependencies inside an ESM bundle still call require(); every chunk may hold one.
    banner: {
      js: "import{createRequire}from'module';const require=createRequire(import.meta.url);",
    },
    // builtinsOnFirstUse first: it takes the imports it names before builtinsThroughRequire does.
    plugins: [
      stackTracesMappedFirst,
      builtinsOnFirstUse(),
      builtinsThroughRequire,
      zodInEnglishOnly,
      withoutSideEffects(),
    ],
    metafile: true,
    logLevel: 'warning',
  };
}

/**
 * SAM's Node.js builder (used when a function has no build Metadata) copies CodeUri through
 * `npm pack` and `npm install`, so the folder needs a package.json; nothing is left to install.
 * Its `imports` find the packages loaded on first call.
 */
function packageManifest(name: string, loadedOnFirstCall: Iterable<string> = []): string {
  const imports = Object.fromEntries(
    [...loadedOnFirstCall].sort().map((pkg) => [onFirstCallImport(pkg), onFirstCallFile(pkg)]),
  );
  return `${JSON.stringify(
    {
      name,
      version: '1.0.0',
      private: true,
      description: `The ${name} Lambda function, bundled by npm run build`,
      type: 'module',
      ...(Object.keys(imports).length > 0 ? { imports } : {}),
    },
    null,
    2,
  )}\n`;
}

/** A function's output folder: dist/<name>, named after its source folder. */
export function outputFolderOf(folder: string, distDir = DIST_DIR): string {
  return join(distDir, basename(folder));
}

/** The CodeUri template.yaml gives the function whose source is `folder`: `dist/<name>/`. */
export function codeUriOf(folder: string): string {
  return `${DIST_DIR}/${basename(folder)}/`;
}

/** The function a CodeUri names the build of: `dist/<name>/` names <name>; anything else none. */
export function builtFunctionName(codeUri: string): string | undefined {
  return new RegExp(`^(?:\\./)?${DIST_DIR}/([a-z0-9][a-z0-9-]*)/?$`).exec(codeUri)?.[1];
}

/**
 * The source folder, functions/<room>/<name>, whose build a CodeUri names: `dist/<name>/` maps
 * to the one function folder called <name>; anything else, or a name two rooms share, to none.
 */
export function sourceFolderOf(
  codeUri: string,
  folders: readonly string[] = functionFolders(),
): string | undefined {
  const name = builtFunctionName(codeUri);
  const matches = folders.filter((folder) => basename(folder) === name);
  return matches.length === 1 ? matches[0] : undefined;
}

/**
 * Function names must be unique across rooms: dist/<name> holds one function, and the template
 * maps each CodeUri back to its source folder by that name.
 */
export function assertUniqueNames(folders: readonly string[]): void {
  const seen = new Map<string, string>();
  for (const folder of folders) {
    const name = basename(folder);
    const other = seen.get(name);
    if (other !== undefined) {
      throw new Error(`${other} and ${folder} share the name ${name}: rename one`);
    }
    seen.set(name, folder);
  }
}

interface RawSourceMap {
  version: number;
  sources: string[];
  names: string[];
  mappings: string;
  sourcesContent?: (string | null)[];
}

/**
 * A source map reduced to the mappings of our own code (sources under functions/), or undefined
 * when the file holds none. Dependencies are nine tenths of a bundle and of its maps, and Node
 * reads and parses each map at every cold start when source maps are on. A frame in dependency
 * code keeps its bundle position: a one-field segment ends each stretch of their code, so no
 * frame there is put on a line of ours.
 */
export function ourMappingsOnly(
  map: RawSourceMap,
  isOurs: (source: string) => boolean,
): RawSourceMap | undefined {
  const sourceIndex = new Map<number, number>();
  const sources: string[] = [];
  map.sources.forEach((source, index) => {
    if (!isOurs(source)) return;
    sourceIndex.set(index, sources.length);
    sources.push(source);
  });
  if (sources.length === 0) return undefined;
  const nameIndex = new Map<number, number>();
  const names: string[] = [];
  const lines = decode(map.mappings).map((segments) => {
    const kept: SourceMapSegment[] = [];
    let inTheirs = false;
    for (const segment of segments) {
      const source = segment.length > 1 ? sourceIndex.get(segment[1] as number) : undefined;
      if (segment.length === 1 || source === undefined) {
        if (!inTheirs) kept.push([segment[0]]);
        inTheirs = true;
        continue;
      }
      inTheirs = false;
      const [column, , line, sourceColumn] = segment as [number, number, number, number];
      if (segment.length === 5) {
        const name = segment[4];
        if (!nameIndex.has(name)) {
          nameIndex.set(name, names.length);
          names.push(map.names[name] as string);
        }
        kept.push([column, source, line, sourceColumn, nameIndex.get(name) as number]);
      } else {
        kept.push([column, source, line, sourceColumn]);
      }
    }
    return kept;
  });
  return { version: map.version, sources, names, mappings: encode(lines) };
}

/** What bundleInto() may do otherwise than a Lambda build, for the benchmark's comparisons. */
export interface BundleVariant {
  /** Keep the mappings of dependencies too (esbuild's whole map). */
  mapDependencies?: boolean;
  /** Put the sources in the maps. */
  sourcesContent?: boolean;
  /** Packages of LOAD_ON_FIRST_CALL to bundle and evaluate at cold start, as others are. */
  eagerPackages?: readonly string[];
  /** Load the built-ins of BUILTINS_ON_FIRST_USE at cold start, as others are. */
  eagerBuiltins?: boolean;
  /** Leave out the formatter of stack traces (stackTracesMappedFirst), as bundles were before. */
  unmappedStackTraces?: boolean;
  plugins?: Plugin[];
}

/**
 * Bundles `entry` into `outdir` as a Lambda is built, and writes the files: the maps reduced to
 * our code, a file whose map would be empty left without one, the packages loaded on first
 * call, and the package.json (named after `outdir`) that finds them.
 */
export async function bundleInto(
  entry: string,
  outdir: string,
  variant: BundleVariant = {},
): Promise<Metafile> {
  const options = lambdaBuildOptions(entry, outdir);
  const onFirstCall = new Set<string>();
  const result = await build({
    ...options,
    sourcesContent: variant.sourcesContent ?? false,
    plugins: [
      ...(options.plugins ?? []).filter(
        (plugin) =>
          (variant.eagerBuiltins !== true || plugin.name !== 'builtins-on-first-use') &&
          (variant.unmappedStackTraces !== true || plugin !== stackTracesMappedFirst),
      ),
      ...(variant.plugins ?? []),
      loadedOnFirstCall(onFirstCall, variant.eagerPackages),
    ],
    write: false,
  });
  if (result.metafile === undefined) throw new Error(`esbuild gave no metafile for ${entry}`);
  const root = resolve('functions');
  const files = new Map<string, string>(
    result.outputFiles.map((file: OutputFile) => [file.path, file.text]),
  );
  if (variant.mapDependencies !== true) {
    for (const [path, text] of files) {
      if (!path.endsWith('.map')) continue;
      const isOurs = (source: string) => resolve(dirname(path), source).startsWith(`${root}${sep}`);
      const reduced = ourMappingsOnly(JSON.parse(text) as RawSourceMap, isOurs);
      const code = path.slice(0, -'.map'.length);
      if (reduced !== undefined) {
        files.set(path, JSON.stringify(reduced));
        continue;
      }
      files.delete(path);
      files.set(code, (files.get(code) ?? '').replace(/\n\/\/# sourceMappingURL=[^\n]*\n?$/, '\n'));
    }
  }
  for (const [path, text] of files) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  await writeLoadedOnFirstCall(onFirstCall, outdir);
  writeFileSync(join(outdir, 'package.json'), packageManifest(basename(outdir), onFirstCall));
  return result.metafile;
}

/** Builds one function into its own folder (emptied first: no stale chunk ships). */
export async function buildFunction(folder: string, distDir = DIST_DIR): Promise<string> {
  const outdir = outputFolderOf(folder, distDir);
  rmSync(outdir, { recursive: true, force: true });
  await bundleInto(join(folder, 'handler.ts'), outdir);
  return outdir;
}

/** Bytes of the files under a folder that match `pattern`. */
function sizeOf(folder: string, pattern: RegExp): { bytes: number; gzipped: number } {
  let bytes = 0;
  let gzipped = 0;
  for (const entry of readdirSync(folder, { recursive: true, encoding: 'utf8' })) {
    const path = join(folder, entry);
    if (!pattern.test(entry) || !statSync(path).isFile()) continue;
    bytes += statSync(path).size;
    gzipped += gzipSync(readFileSync(path)).length;
  }
  return { bytes, gzipped };
}

/** Builds every function, side by side. */
export async function buildFunctions(distDir = DIST_DIR): Promise<string[]> {
  const folders = functionFolders();
  if (folders.length === 0) throw new Error('No functions/<room>/<name>/handler.ts found');
  assertUniqueNames(folders);
  mkdirSync(distDir, { recursive: true });
  return Promise.all(folders.map((folder) => buildFunction(folder, distDir)));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const outdirs = await buildFunctions();
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0).padStart(6)} KB`;
  for (const outdir of outdirs) {
    const entry = statSync(join(outdir, `${HANDLER_MODULE}.mjs`)).size;
    const code = sizeOf(outdir, /\.mjs$/);
    console.log(
      `${relative('.', outdir).padEnd(28)} index.mjs ${kb(entry)}, with chunks ${kb(code.bytes)} (${kb(code.gzipped)} gzipped)`,
    );
  }
}
