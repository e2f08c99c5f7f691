/**
 * scripts/start-sandbox.cjs, which `npm start` and `npm run sandbox` run: the bundle it builds
 * runs as the sources do, reuses V8's code cache of itself from the run before, never trusts a
 * cache that is not of its own code, and its stack traces name our TypeScript files.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
/** Where the bundle of this Node version is kept. */
const OUT_DIR = join(ROOT, 'node_modules/.cache/ses-identity-verifier/sandbox', process.version);

function start(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['scripts/start-sandbox.cjs', 'cli', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, SANDBOX_BUNDLE_QUIET: '1', ...env },
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const codeCaches = () => readdirSync(OUT_DIR).filter((file) => /^cli\..*\.code-cache$/.test(file));
/** How far the run the cache is of went: the phases it marked, in the cache's name. */
const depthOf = (cache: string | undefined) =>
  Number(/\.(\d+)\.code-cache$/.exec(cache ?? '')?.[1]);

describe('scripts/start-sandbox.cjs', () => {
  it('runs the CLI from its bundle and leaves one code cache, named after the bundle', () => {
    const first = start(['--help']);
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('--generate-key');
    const caches = codeCaches();
    expect(caches).toHaveLength(1);

    const second = start(['--help']);
    expect(second.status).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(codeCaches()).toEqual(caches);
  }, 180_000);

  it('replaces the cache of a shorter run with that of a run that went further, not back', () => {
    for (const cache of codeCaches()) rmSync(join(OUT_DIR, cache));
    expect(start(['--help']).status).toBe(0);
    const [short] = codeCaches();
    const run = start(['example.com', '--quiet']);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)['detail-type']).toBe('Email Identity Verified');
    const [long] = codeCaches();
    expect(codeCaches()).toHaveLength(1);
    expect(depthOf(long)).toBeGreaterThan(depthOf(short));

    expect(start(['--help']).status).toBe(0);
    expect(codeCaches()).toEqual([long]);
  }, 180_000);

  it('replaces a cache V8 rejects and still runs', () => {
    expect(start(['--help']).status).toBe(0);
    const [cache] = codeCaches();
    if (cache === undefined) throw new Error('no code cache after a run');
    const file = join(OUT_DIR, cache);
    writeFileSync(file, Buffer.from('not a code cache of this bundle'));

    const run = start(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('--generate-key');
    const [replaced] = codeCaches();
    expect(codeCaches()).toHaveLength(1);
    expect(readFileSync(join(OUT_DIR, replaced ?? '')).length).toBeGreaterThan(100_000);
  }, 180_000);

  it('says a build failed once, after the file and line esbuild names', () => {
    // A copy of the project's layout whose entry does not parse: the launcher's own copy, the
    // packages it builds with, and nothing it could write into the real node_modules/.cache.
    const dir = mkdtempSync(join(tmpdir(), 'start-sandbox-broken-'));
    try {
      for (const folder of [
        'scripts',
        'sandbox',
        'functions/api',
        'functions/steps',
        'functions/jobs',
      ]) {
        mkdirSync(join(dir, folder), { recursive: true });
      }
      copyFileSync(join(ROOT, 'scripts/start-sandbox.cjs'), join(dir, 'scripts/start-sandbox.cjs'));
      writeFileSync(join(dir, 'sandbox/cli.ts'), 'export const broken = ;\n');
      for (const pkg of ['esbuild', '@jridgewell/sourcemap-codec']) {
        mkdirSync(dirname(join(dir, 'node_modules', pkg)), { recursive: true });
        symlinkSync(join(ROOT, 'node_modules', pkg), join(dir, 'node_modules', pkg), 'dir');
      }
      const run = spawnSync(process.execPath, [join(dir, 'scripts/start-sandbox.cjs'), 'cli'], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/sandbox\/cli\.ts:1:\d+/);
      expect(run.stderr).toContain('sandbox: the build failed (1 error above)');
      // Not esbuild's error object and stack again.
      expect(run.stderr).not.toContain('failureErrorWithLog');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("maps an error's stack to our TypeScript sources", () => {
    const run = start(['example.com'], { SANDBOX_REGION: 'not-a-region' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('SANDBOX_REGION must be an AWS region name');
    expect(run.stderr).toMatch(/at .*\/sandbox\/env\.ts:\d+:\d+\)/);
    expect(run.stderr).toMatch(/\/sandbox\/cli\.ts:\d+:\d+/);
    expect(run.stderr).not.toMatch(/cli\.cjs:\d+/);
  }, 180_000);

  it("verifies a domain without loading Node's http2, which only dns2's unused DNS-over-HTTPS client needs", () => {
    const dir = mkdtempSync(join(tmpdir(), 'start-sandbox-'));
    try {
      const loaded = join(dir, 'loaded.txt');
      writeFileSync(
        join(dir, 'record.cjs'),
        `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(loaded)}, process.moduleLoadList.join('\\n')));\n`,
      );
      const run = spawnSync(
        process.execPath,
        [
          '-r',
          join(dir, 'record.cjs'),
          'scripts/start-sandbox.cjs',
          'cli',
          'example.com',
          '--quiet',
        ],
        { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SANDBOX_BUNDLE_QUIET: '1' } },
      );
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout)['detail-type']).toBe('Email Identity Verified');
      const modules = readFileSync(loaded, 'utf8').split('\n');
      // The DNS server and the functions' resolver did load what they use.
      expect(modules).toContain('NativeModule dgram');
      expect(modules).toContain('NativeModule dns');
      expect(modules).not.toContain('NativeModule http2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('loads on first use what a run may not need, and uses it when the run does', () => {
    // The parsed template's cache gone: the YAML parser loads and parses template.yaml.
    rmSync(join(ROOT, 'node_modules/.cache/ses-identity-verifier/template.json'), { force: true });
    // A name with a non-ASCII label: tr46 loads and gives its A-label.
    const run = start(['bücher.example.com', '--quiet']);
    expect(run.status).toBe(0);
    const event = JSON.parse(run.stdout);
    expect(event['detail-type']).toBe('Email Identity Verified');
    expect(event.detail.identity).toBe('xn--bcher-kva.example.com');
  }, 180_000);

  it("verifies whatever AWS profile and session token the user's shell holds", () => {
    // The SDK skips credentials in the environment when AWS_PROFILE is set, and this profile
    // exists nowhere: the sandbox must use its own keys, as a Lambda function uses its role's.
    const run = start(['example.com', '--quiet'], {
      AWS_PROFILE: 'no-such-profile-anywhere',
      AWS_SESSION_TOKEN: 'a-token-of-the-shell',
    });
    expect(run.stderr).not.toContain('CredentialsProviderError');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)['detail-type']).toBe('Email Identity Verified');
  }, 180_000);

  it("ignores the AWS settings of the user's shell and ~/.aws, as Lambda has none", () => {
    // Each of these, reaching the functions' SDK clients, sends them somewhere else than the
    // sandbox's endpoint: a service's own endpoint variable outranks AWS_ENDPOINT_URL, the
    // opt-out ignores it, and a config file's endpoint_url and max_attempts apply to every client.
    const dir = mkdtempSync(join(tmpdir(), 'aws-config-'));
    try {
      const config = join(dir, 'config');
      writeFileSync(
        config,
        '[default]\nendpoint_url = http://127.0.0.1:9\nmax_attempts = 1\nretry_mode = adaptive\n',
      );
      const nowhere = 'http://127.0.0.1:9';
      const run = start(['example.com', '--quiet'], {
        AWS_CONFIG_FILE: config,
        AWS_SHARED_CREDENTIALS_FILE: config,
        AWS_ENDPOINT_URL_DYNAMODB: nowhere,
        AWS_ENDPOINT_URL_SESV2: nowhere,
        AWS_ENDPOINT_URL_ROUTE_53: nowhere,
        AWS_ENDPOINT_URL_SFN: nowhere,
        AWS_MAX_ATTEMPTS: '1',
        AWS_USE_FIPS_ENDPOINT: 'true',
      });
      expect(run.stderr).not.toMatch(/ECONNREFUSED|FIPS/);
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout)['detail-type']).toBe('Email Identity Verified');

      const optedOut = start(['example.com', '--quiet'], {
        AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true',
      });
      expect(optedOut.status).toBe(0);
      expect(JSON.parse(optedOut.stdout)['detail-type']).toBe('Email Identity Verified');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('finds every package it leaves out of the bundle, from where the bundle runs', () => {
    expect(start(['--help']).status).toBe(0);
    const bundle = join(OUT_DIR, 'cli.cjs');
    const required = [
      ...new Set(
        [...readFileSync(bundle, 'latin1').matchAll(/require\("([^"]+)"\)/g)]
          .map(([, specifier = '']) => specifier)
          // The SDK's optional native SigV4a signer, required in a try only for SigV4a, which
          // nothing here signs with; it is not installed.
          .filter(
            (specifier) => !isBuiltin(specifier) && specifier !== '@aws-sdk/signature-v4-crt',
          ),
      ),
    ];
    // Those loaded on first use, at least (scripts/start-sandbox.cjs, ON_FIRST_USE).
    expect(required).toEqual(
      expect.arrayContaining(['tr46', 'yaml', 'asl-validator', '@aws-sdk/client-lambda']),
    );
    const requireFromBundle = createRequire(bundle);
    for (const specifier of required) {
      expect(() => requireFromBundle.resolve(specifier), specifier).not.toThrow();
    }
  }, 180_000);
});
