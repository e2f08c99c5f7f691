import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The Node 22 release the benchmarks run: Lambda's nodejs22.x follows the 22.x line. */
export const NODE_22_VERSION = '22.23.5';

/** Where the benchmarks install it: node_modules/.cache, which `npm ci` starts afresh. */
const PREFIX = resolve('node_modules/.cache/bench-cold-start/node');

/**
 * A Node 22 binary: BENCH_NODE, or npm's `node-<os>-<arch>` package, installed from the npm
 * registry into node_modules/.cache on first use.
 */
export function node22(): string {
  const given = process.env.BENCH_NODE;
  if (given !== undefined && given !== '') return given;
  const os = process.platform === 'win32' ? 'win' : process.platform;
  const pkg = `node-${os}-${process.arch}`;
  const binary = join(PREFIX, 'node_modules', pkg, 'bin', 'node');
  const wanted = `v${NODE_22_VERSION}`;
  const installed = () =>
    existsSync(binary) && execFileSync(binary, ['-v'], { encoding: 'utf8' }).trim() === wanted;
  if (!installed()) {
    process.stderr.write(`Installing ${pkg}@${NODE_22_VERSION} into ${PREFIX}\n`);
    mkdirSync(PREFIX, { recursive: true });
    execFileSync(
      'npm',
      [
        'install',
        '--prefix',
        PREFIX,
        '--no-save',
        '--no-package-lock',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        `${pkg}@${NODE_22_VERSION}`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    if (!installed()) throw new Error(`${binary} is not Node ${wanted}`);
  }
  return binary;
}
