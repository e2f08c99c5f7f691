/**
 * `npm start` and `npm run sandbox`: runs sandbox/cli.ts or sandbox/server.ts from a bundle that
 * esbuild builds on first use, and again whenever a file it was built from has changed, so that
 * nobody has to think about it. Starting from TypeScript through tsx cost a second or more on
 * every start (tsx's loader sees every module the process loads, the AWS SDK's included); the
 * bundle holds our code and the packages, compiled once, and V8's code cache of it (below)
 * spares each start parsing and compiling it again.
 *
 * Plain JavaScript because it runs before anything could compile TypeScript; CommonJS because
 * Node 20 runs the same bundle more slowly under an ES module main: `npm start -- example.com`
 * took 40 to 60 ms more CPU with this file as an .mjs (measured side by side, most of it in the
 * run, not the start; an .mjs that only requires this file costs the same).
 * Usage: `node scripts/start-sandbox.cjs cli|server [arguments...]`.
 */
'use strict';
const { createHash } = require('node:crypto');
const {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} = require('node:fs');
const Module = require('node:module');
const { createRequire, isBuiltin, SourceMap } = Module;
const { dirname, join, relative, resolve, sep } = require('node:path');
const { fileURLToPath, pathToFileURL } = require('node:url');
const { Script } = require('node:vm');

const ROOT = join(__dirname, '..') + sep;
const ENTRIES = { cli: 'sandbox/cli.ts', server: 'sandbox/server.ts' };
/**
 * Under node_modules: `npm ci` starts it afresh, and nothing else looks there. One folder per
 * Node version: the bundle targets it and V8's code cache is of its V8, so someone who switches
 * between Node versions (nvm, or `npm run bench`, which also starts on Node 22) keeps each one's.
 */
const OUT_DIR = join(
  ROOT,
  'node_modules',
  '.cache',
  'ses-identity-verifier',
  'sandbox',
  process.version,
);
/** Where the functions live; a new function folder in one of these rooms changes its mtime. */
const ROOMS = ['functions/api', 'functions/steps', 'functions/jobs'];
/** The module the sandbox imports each handler through, replaced in the bundle (below). */
const HANDLER_IMPORTER = 'sandbox/asl-runner/handlers.ts';
/** Bump when the way the bundle is built changes, so that old bundles are rebuilt. */
const BUILD_VERSION = 6;
/**
 * Packages the bundle leaves to Node: esbuild, which the console bundles its page with on first
 * request, finds its binary next to its files.
 */
const EXTERNAL = ['esbuild'];
/** The bundle's last line: this, then a hash of the code above it. */
const BUILD_MARK = '//# sandboxBuild=';

/** The source map codec, loaded only to build. */
let decode;
let encode;

const [name, ...args] = process.argv.slice(2);
const entry = ENTRIES[name ?? ''];
if (entry === undefined) {
  process.stderr.write(`Usage: node scripts/start-sandbox.cjs ${Object.keys(ENTRIES).join('|')}\n`);
  process.exit(2);
}
const bundle = join(OUT_DIR, `${name}.cjs`);
const stampFile = join(OUT_DIR, `${name}.inputs.json`);

/** A file's signature: size and modification time. Undefined when it is gone. */
function signature(file) {
  try {
    const stat = statSync(join(ROOT, file));
    return `${stat.size}:${stat.mtimeMs}`;
  } catch {
    return undefined;
  }
}

/** True when the bundle was built from the files as they are now (one stat per file). */
function isFresh() {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
  } catch {
    return false;
  }
  if (stamp.version !== BUILD_VERSION || stamp.node !== process.version) return false;
  return Object.entries(stamp.inputs).every(([file, seen]) => signature(file) === seen);
}

/** The handler folders (`steps/create-identity`) as they are on disk now. */
function handlerFolders() {
  const folders = [];
  for (const room of ROOMS) {
    for (const entry of readdirSync(join(ROOT, room), { withFileTypes: true })) {
      if (entry.isDirectory() && signature(join(room, entry.name, 'handler.ts')) !== undefined) {
        folders.push(`${room.slice('functions/'.length)}/${entry.name}`);
      }
    }
  }
  return folders.sort();
}

/**
 * What makes a bundle behave as the sources do under tsx: each module's `import.meta.url` is its
 * source file's URL (the sandbox finds template.yaml and the state machine from there), and the
 * handlers, which the sandbox imports by a computed URL, are imported through a table of static
 * imports that esbuild can follow.
 */
function asTheSources(folders) {
  return {
    name: 'as-the-sources',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (loaded) => {
        const file = relative(ROOT, loaded.path).split(sep).join('/');
        if (file.startsWith('node_modules/')) return undefined;
        if (file === HANDLER_IMPORTER) {
          const table = folders
            .map(
              (folder) =>
                `  ${JSON.stringify(folder)}: () => import('../../functions/${folder}/handler.ts'),`,
            )
            .join('\n');
          return {
            loader: 'ts',
            resolveDir: dirname(loaded.path),
            contents: `const handlers: Record<string, () => Promise<{ handler?: unknown }>> = {\n${table}\n};
export async function importHandler(folder: string) {
  const module = await handlers[folder]?.();
  if (typeof module?.handler !== 'function') {
    throw new Error(\`functions/\${folder}/handler.ts exports no handler\`);
  }
  return module.handler;
}\n`,
          };
        }
        const source = readFileSync(loaded.path, 'utf8');
        return {
          loader: 'ts',
          contents: source.replaceAll(
            'import.meta.url',
            JSON.stringify(pathToFileURL(loaded.path).href),
          ),
        };
      });
    },
  };
}

/**
 * dynalite, bundled so that V8's code cache holds it too (it took as long to load from
 * node_modules as the rest of the stack's modules): it requires its actions and their validations
 * by computed names, which become a table of static requires, and it requires `level` (LevelDB
 * on disk, through a native binding) for a table path the sandbox never gives it: it keeps
 * DynamoDB in memory (memory-level).
 */
function dynaliteBundled() {
  const namespace = 'dynalite-level-on-disk';
  return {
    name: 'dynalite-bundled',
    setup(build) {
      build.onLoad({ filter: /[\\/]node_modules[\\/]dynalite[\\/]index\.js$/ }, (loaded) => {
        const source = readFileSync(loaded.path, 'utf8');
        const table = (folder) =>
          `({ ${readdirSync(join(dirname(loaded.path), folder))
            .filter((file) => file.endsWith('.js'))
            .map(
              (file) =>
                `${JSON.stringify(file.slice(0, -3))}: () => require(${JSON.stringify(`./${folder}/${file}`)})`,
            )
            .join(', ')} })`;
        const contents = source
          .replace("require('./actions/' + action)", `${table('actions')}[action]()`)
          .replace("require('./validations/' + action)", `${table('validations')}[action]()`);
        if (
          contents.includes("require('./actions/' +") ||
          contents.includes("require('./validations/' +")
        ) {
          throw new Error('dynalite requires its actions otherwise than this build expects');
        }
        return { contents, loader: 'js' };
      });
      build.onResolve({ filter: /^level$/ }, (args) =>
        /[\\/]node_modules[\\/]dynalite[\\/]/.test(args.importer)
          ? { path: 'level', namespace }
          : undefined,
      );
      build.onLoad({ filter: /.*/, namespace }, () => ({
        contents:
          "exports.Level = class Level { constructor() { throw new Error('The sandbox keeps DynamoDB in memory: dynalite is given no path.'); } };",
        loader: 'js',
      }));
    },
  };
}

/**
 * dns2's clients, which the sandbox never uses (it serves DNS; the functions query it through
 * node:dns), loaded when first called rather than when dns2 is: its DNS-over-HTTPS client
 * requires `http2`, the largest of Node's modules a start would otherwise load (about 10 ms).
 */
function dns2ClientsOnFirstCall() {
  return {
    name: 'dns2-clients-on-first-call',
    setup(build) {
      build.onLoad({ filter: /[\\/]node_modules[\\/]dns2[\\/]index\.js$/ }, (loaded) => {
        const source = readFileSync(loaded.path, 'utf8');
        const clients = /^DNS\.(\w+Client) = require\(('\.\/client\/\w+')\);$/gm;
        const contents = source.replace(
          clients,
          (_, client, file) => `DNS.${client} = (...args) => require(${file})(...args);`,
        );
        if (/= require\('\.\/client\//.test(contents)) {
          throw new Error('dns2 requires its clients otherwise than this build expects');
        }
        return { contents, loader: 'js' };
      });
    },
  };
}

/**
 * What an importer takes from a package but may never use, loaded on first use: each name a
 * function or class that requires the package from node_modules when first called or
 * constructed; the package is not in the bundle.
 *   - aws-local-stepfunctions invokes a Task through the Lambda API, signed with Cognito
 *     credentials if asked, only where no local handler is given; the sandbox gives one for
 *     every Task, so its Lambda client and the credential providers never run.
 *   - tr46 (the IDNA tables, 230 KB) serves only names with a non-ASCII character or an
 *     A-label, as in the Lambdas (scripts/build.ts, LOAD_ON_FIRST_CALL).
 *   - asl-validator, which the sandbox's runner is told not to call, and its JSONata parser.
 *   - the YAML parser, when template.yaml's parsed form is in the cache.
 * Measured side by side, with dns2's clients (above): the code cache a run leaves went from 5.4
 * to 4.3 MB, and `npm start -- example.com` took 30 to 70 ms less CPU (of about 750).
 */
const ON_FIRST_USE = [
  {
    importer: /[\\/]node_modules[\\/]aws-local-stepfunctions[\\/]/,
    pkg: '@aws-sdk/client-lambda',
    classes: ['LambdaClient', 'InvokeCommand'],
  },
  {
    importer: /[\\/]node_modules[\\/]aws-local-stepfunctions[\\/]/,
    pkg: '@aws-sdk/credential-providers',
    functions: ['fromCognitoIdentityPool'],
  },
  { importer: /[\\/]functions[\\/]/, pkg: 'tr46', functions: ['toASCII', 'toUnicode'] },
  // asl-validator parses a string with JSONata only where a state's QueryLanguage is JSONata;
  // ours is JSONPath. The package is the one function it exports.
  { importer: /[\\/]node_modules[\\/]asl-validator[\\/]/, pkg: 'jsonata', callable: true },
  // aws-local-stepfunctions validates a definition unless told not to, and the sandbox tells it
  // not to (sandbox/asl-runner/runner.ts): asl-validator and its JSON Schema compiler never run.
  {
    importer: /[\\/]node_modules[\\/]aws-local-stepfunctions[\\/]/,
    pkg: 'asl-validator',
    callable: true,
  },
  // template.yaml is parsed only when its text changed (sandbox/deploy/template-cache.ts).
  { importer: /[\\/]scripts[\\/]validate-cfn-yaml\.ts$/, pkg: 'yaml', functions: ['parse'] },
];

function packagesOnFirstUse(table = ON_FIRST_USE) {
  const namespace = 'on-first-use';
  return {
    name: 'packages-on-first-use',
    setup(build) {
      build.onResolve({ filter: /^[@a-z]/ }, (args) => {
        // The package itself stays out of the bundle: its text is not read at every start, and
        // Node loads it from node_modules the first time it is used.
        if (args.namespace === namespace) return { path: args.path, external: true };
        const index = table.findIndex(
          ({ importer, pkg }) => pkg === args.path && importer.test(args.importer),
        );
        return index < 0 ? undefined : { path: args.path, namespace, pluginData: index };
      });
      build.onLoad({ filter: /.*/, namespace }, (args) => {
        const { pkg, classes = [], functions = [], callable = false } = table[args.pluginData];
        return {
          contents: [
            'let loaded;',
            `const load = () => (loaded ??= require(${JSON.stringify(pkg)}));`,
            ...(callable ? ['module.exports = (...args) => load()(...args);'] : []),
            ...classes.map(
              (name) =>
                `export class ${name} { constructor(...args) { return new (load().${name})(...args); } }`,
            ),
            ...functions.map(
              (name) => `export const ${name} = (...args) => load().${name}(...args);`,
            ),
          ].join('\n'),
          loader: 'js',
          resolveDir: ROOT,
        };
      });
    },
  };
}

/**
 * Named imports of an AWS SDK client package (and lib-dynamodb) taken from the module that
 * defines each name rather than from the package's index. Below an `import()` esbuild wraps
 * modules to evaluate them later, and a wrapped index's `export *` keeps every module it
 * re-exports: each client's aggregated class with all its commands and their schemas (in the
 * SESv2 index, over a hundred), built at every start though the sandbox sends a few dozen
 * operations in all. The Lambdas' ES module build is not wrapped and shakes them out itself.
 * A name not found in the package's modules, or an import that is not by name, keeps the index.
 */
const SDK_PACKAGE = /^@aws-sdk\/(?:client-[a-z0-9-]+|lib-dynamodb)$/;

/**
 * Where each name a package's ES module index exports is defined: the name to the module that
 * exports it and the name it has there, following `export * from` and `export { a as b } from`
 * through the package's own files.
 */
function definitionsOf(indexFile) {
  const names = new Map();
  const fileOf = (from, target) => {
    const base = resolve(dirname(from), target);
    return [`${base}.js`, join(base, 'index.js'), base].find(
      (candidate) => existsSync(candidate) && statSync(candidate).isFile(),
    );
  };
  const visit = (file, seen) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const [, target] of source.matchAll(/^export \* from ["'](\.[^"']+)["'];?$/gm)) {
      const found = fileOf(file, target);
      if (found) visit(found, seen);
    }
    for (const [, list = '', target = ''] of source.matchAll(
      /^export \{([^}]*)\} from ["'](\.[^"']+)["'];?$/gm,
    )) {
      const found = fileOf(file, target);
      for (const item of list.split(',')) {
        const [local = '', exported = local] = item.trim().split(/\s+as\s+/);
        if (found && exported && !names.has(exported)) names.set(exported, [found, local]);
      }
    }
    for (const [, name] of source.matchAll(
      /^export (?:class|const|let|var|function\*?|async function) ([\w$]+)/gm,
    )) {
      if (!names.has(name)) names.set(name, [file, name]);
    }
  };
  visit(indexFile, new Set());
  return names;
}

/**
 * The names a module takes from `specifier`: with `import { a, b as c } from`, or by
 * destructuring an `import()` (`const { a } = await import(...)`); undefined if it takes the
 * module any other way (whole, as a namespace, re-exported).
 */
function namesImportedFrom(source, specifier) {
  const quoted = `["']${specifier.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}["']`;
  const lists = [];
  let rest = source.replace(
    new RegExp(`import\\s*([^;]*?)\\s*from\\s*${quoted}`, 'g'),
    (_, clause) => {
      if (/^type\s*\{/.test(clause)) return '';
      const list = /^\{([^}]*)\}$/.exec(clause.trim())?.[1];
      lists.push(list);
      return '';
    },
  );
  rest = rest.replace(
    new RegExp(`const\\s*\\{([^}]*)\\}\\s*=\\s*await\\s+import\\s*\\(\\s*${quoted}\\s*\\)`, 'g'),
    (_, list) => {
      lists.push(list);
      return '';
    },
  );
  if (lists.length === 0 || lists.includes(undefined) || new RegExp(quoted).test(rest)) {
    return undefined;
  }
  const names = [];
  for (const list of lists) {
    for (const item of list.split(',')) {
      const name = item
        .trim()
        .replace(/^type\s+.*$/, '')
        .split(/\s+as\s+|\s*:\s*/)[0];
      if (name) names.push(name);
    }
  }
  return names;
}

function sdkImportsByModule() {
  const namespace = 'sdk-by-module';
  const definitions = new Map();
  return {
    name: 'sdk-imports-by-module',
    setup(build) {
      build.onResolve({ filter: SDK_PACKAGE }, async (args) => {
        if (args.pluginData === namespace) return undefined;
        if (args.kind !== 'import-statement' && args.kind !== 'dynamic-import') return undefined;
        const names = namesImportedFrom(readFileSync(args.importer, 'utf8'), args.path);
        if (names === undefined || names.length === 0) return undefined;
        const index = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: namespace,
        });
        if (index.errors.length > 0 || index.external) return undefined;
        if (!definitions.has(index.path)) definitions.set(index.path, definitionsOf(index.path));
        const defined = definitions.get(index.path);
        if (!names.every((name) => defined.has(name))) return undefined;
        return {
          path: `${args.path}?${[...new Set(names)].sort().join(',')}`,
          namespace,
          pluginData: names.map((name) => [name, ...defined.get(name)]),
        };
      });
      build.onLoad({ filter: /.*/, namespace }, (args) => ({
        contents: args.pluginData
          .map(
            ([name, file, local]) => `export { ${local} as ${name} } from ${JSON.stringify(file)};`,
          )
          .join('\n'),
        loader: 'js',
        resolveDir: ROOT,
      }));
    },
  };
}

/**
 * `import()` of a built-in module or of a package left external, as `require()`: the bundle runs
 * as a classic script (below), where a real `import()` would need Node's experimental
 * `vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER`, which Node 20 does not honour for code
 * compiled from a code cache. The SDK's HTTP handler imports `http` and `https` that way.
 */
function dynamicImportsThroughRequire(externals) {
  const namespace = 'dynamic-import-through-require';
  return {
    name: namespace,
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) =>
        args.kind === 'dynamic-import' && (isBuiltin(args.path) || externals.includes(args.path))
          ? { path: args.path, namespace }
          : undefined,
      );
      build.onLoad({ filter: /.*/, namespace }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(args.path)});`,
        loader: 'js',
      }));
    },
  };
}

/**
 * The source map without the mappings of packages: Node reads and parses the map at every start,
 * and stack traces need our files only. A frame in package code keeps its bundle position (a
 * one-field segment ends each stretch of theirs).
 */
function ourMappingsOnly(map) {
  const packages = join(ROOT, 'node_modules') + sep;
  const isOurs = (source) => !resolve(OUT_DIR, source).startsWith(packages);
  const sources = [];
  const sourceIndex = new Map();
  map.sources.forEach((source, index) => {
    if (!isOurs(source)) return;
    sourceIndex.set(index, sources.length);
    sources.push(source);
  });
  const lines = decode(map.mappings).map((segments) => {
    const kept = [];
    let inTheirs = false;
    for (const segment of segments) {
      const source = segment.length > 1 ? sourceIndex.get(segment[1]) : undefined;
      if (source === undefined) {
        if (!inTheirs) kept.push([segment[0]]);
        inTheirs = true;
        continue;
      }
      inTheirs = false;
      kept.push([segment[0], source, segment[2], segment[3]]);
    }
    return kept;
  });
  return { version: map.version, sources, names: [], mappings: encode(lines) };
}

async function rebuild() {
  const started = performance.now();
  const { build } = await import('esbuild');
  ({ decode, encode } = await import('@jridgewell/sourcemap-codec'));
  const folders = handlerFolders();
  mkdirSync(OUT_DIR, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, entry)],
    outfile: `${bundle}.tmp`,
    bundle: true,
    // CommonJS, because only a classic script can be given V8's code cache on Node 20 (below).
    format: 'cjs',
    platform: 'node',
    target: `node${process.versions.node.split('.')[0]}`,
    mainFields: ['module', 'main'],
    external: EXTERNAL,
    // A third of the size to read and compile at each start.
    minify: true,
    // Only ASCII (esbuild's default, said here because the start reads the bundle as Latin-1,
    // which needs no decoding).
    charset: 'ascii',
    sourcemap: 'external',
    sourcesContent: false,
    write: false,
    metafile: true,
    logLevel: 'warning',
    plugins: [
      asTheSources(folders),
      dynaliteBundled(),
      dns2ClientsOnFirstCall(),
      packagesOnFirstUse(),
      sdkImportsByModule(),
      dynamicImportsThroughRequire(EXTERNAL),
    ],
  });
  const inputs = {};
  // Our files one by one; the packages through the lock file npm writes into node_modules at
  // every install (thousands of files would cost a stat each at every start).
  const files = [
    ...Object.keys(result.metafile.inputs).filter((input) => !input.startsWith('node_modules/')),
    ...ROOMS,
    'package.json',
    'node_modules/.package-lock.json',
    'scripts/start-sandbox.cjs',
  ];
  for (const input of files) {
    const file = relative(ROOT, join(ROOT, input)).split(sep).join('/');
    inputs[file] = signature(file);
  }
  const output = (suffix) => result.outputFiles.find((file) => file.path.endsWith(suffix));
  // Each file written aside and renamed into place, the stamp last: a second start at the same
  // moment reads the old bundle or the new one, never half of one.
  const place = (file, text) => {
    writeFileSync(`${file}.${process.pid}`, text);
    renameSync(`${file}.${process.pid}`, file);
  };
  place(`${bundle}.map`, JSON.stringify(ourMappingsOnly(JSON.parse(output('.map').text))));
  const code = output('.tmp').text;
  // The build's name, from its text: the code cache is named after it (see runBundle).
  const buildName = createHash('sha256').update(code).digest('hex').slice(0, 16);
  place(bundle, `${code}//# sourceMappingURL=${name}.cjs.map\n${BUILD_MARK}${buildName}\n`);
  place(
    stampFile,
    `${JSON.stringify({ version: BUILD_VERSION, node: process.version, inputs }, null, 1)}\n`,
  );
  if (process.env.SANDBOX_BUNDLE_QUIET === undefined) {
    process.stderr.write(
      `sandbox: built ${relative(ROOT, bundle)} from ${Object.keys(result.metafile.inputs).length} files in ${Math.round(performance.now() - started)} ms (again only when they change)\n`,
    );
  }
}

if (isFresh()) runBundle();
else {
  rebuild().then(runBundle, (error) => {
    // esbuild has printed what failed, with the file and line; its error object adds nothing.
    const printed = Array.isArray(error?.errors) && error.errors.length > 0;
    process.stderr.write(
      printed
        ? `sandbox: the build failed (${error.errors.length} error${error.errors.length === 1 ? '' : 's'} above)\n`
        : `sandbox: the build failed: ${error?.stack ?? String(error)}\n`,
    );
    process.exit(1);
  });
}

/**
 * Runs the bundle as Node would run it as a CommonJS main module, but compiled through
 * `vm.Script` with V8's code cache: the cache holds the bytecode of every function the last run
 * compiled, so this start neither parses 2 MB of JavaScript nor compiles the functions a run
 * needs again. Node 20 has no code cache for ES modules, nor `module.enableCompileCache()`.
 *
 * The cache is named after a hash of the bundle's text, which the build writes at its end, so a
 * cache only ever meets the code it was made from (V8 itself checks only the text's length, its own version and its flags). When
 * there is none, V8 rejects it, or this run went further than the one it is of, the run writes
 * one as the process exits.
 */
function runBundle() {
  const code = readFileSync(bundle, 'latin1');
  const digest = code.slice(code.lastIndexOf(BUILD_MARK) + BUILD_MARK.length).trim();
  const ours = new RegExp(`^${name}\\.${digest}\\.(\\d+)\\.code-cache$`);
  const found = readdirSync(OUT_DIR)
    .map((file) => ({ file, depth: Number(ours.exec(file)?.[1] ?? -1) }))
    .find(({ depth }) => depth >= 0);
  let cachedData;
  try {
    cachedData = found === undefined ? undefined : readFileSync(join(OUT_DIR, found.file));
  } catch {
    cachedData = undefined;
  }
  const script = new Script(Module.wrap(code), { filename: bundle, cachedData });
  const cachedDepth = cachedData === undefined || script.cachedDataRejected ? -1 : found.depth;
  process.once('exit', () => {
    // How far this run went: the entry points mark each phase they reach (performance.mark). A
    // run that went further than the one the cache is of (a workflow run after `--help`, say)
    // compiled functions the cache lacks, and replaces it.
    const depth = performance.getEntriesByType('mark').length;
    if (depth <= cachedDepth) return;
    try {
      const cacheFile = join(OUT_DIR, `${name}.${digest}.${depth}.code-cache`);
      writeFileSync(`${cacheFile}.${process.pid}`, script.createCachedData());
      renameSync(`${cacheFile}.${process.pid}`, cacheFile);
      for (const file of readdirSync(OUT_DIR)) {
        if (
          file.startsWith(`${name}.`) &&
          file.endsWith('.code-cache') &&
          join(OUT_DIR, file) !== cacheFile
        ) {
          rmSync(join(OUT_DIR, file), { force: true });
        }
      }
    } catch {
      // A cache only saves time: without one the next start compiles, as this one did.
    }
  });
  mapStackTracesOf(bundle);
  // As if Node had been started on the source file: the entry module checks that it is the one
  // the process was started with before it runs.
  process.argv = [process.argv[0] ?? 'node', join(ROOT, entry), ...args];
  const main = new Module(bundle, undefined);
  main.filename = bundle;
  main.paths = Module._nodeModulePaths(OUT_DIR);
  const require = createRequire(bundle);
  script.runInThisContext()(main.exports, require, main, bundle, OUT_DIR);
}

/**
 * Stack traces that name our source files and lines: frames in the bundle are mapped through its
 * source map, read and parsed only when an error's stack is first formatted. (Node's own
 * `--enable-source-maps` maps only code that its module loaders compiled.)
 */
function mapStackTracesOf(file) {
  let map;
  const sourceMap = () => {
    if (map === undefined) {
      try {
        map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
      } catch {
        map = null;
      }
    }
    return map;
  };
  Error.prepareStackTrace = (error, frames) => {
    const header = errorHeader(error);
    const lines = frames.map((frame) => {
      const text = `    at ${frame}`;
      if (frame.getFileName() !== file) return text;
      const line = frame.getLineNumber();
      const column = frame.getColumnNumber();
      const found =
        line === null || column === null ? undefined : sourceMap()?.findEntry(line - 1, column - 1);
      if (found?.originalSource === undefined) return text;
      const source = found.originalSource.startsWith('file:')
        ? fileURLToPath(found.originalSource)
        : resolve(OUT_DIR, found.originalSource);
      return text.replace(
        `${file}:${line}:${column}`,
        `${source}:${found.originalLine + 1}:${found.originalColumn + 1}`,
      );
    });
    return [header, ...lines].join('\n');
  };
}

/** The first line of a stack, as V8 writes it: `Name: message`, or only the name. */
function errorHeader(error) {
  try {
    const message =
      error?.message === undefined || error.message === '' ? '' : `: ${error.message}`;
    return `${error?.name ?? 'Error'}${message}`;
  } catch {
    return 'Error';
  }
}
