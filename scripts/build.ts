/**
 * Bundles every Lambda (functions/<room>/<name>/handler.ts) into dist/<name>/index.mjs: ESM, minified,
 * with source maps and the AWS SDK bundled (a pinned SDK, not whatever the runtime ships).
 * `sam build` uses the same settings through each function's esbuild Metadata.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { functionFolders } from './lib/function-folders.js';

const folders = functionFolders();
if (folders.length === 0) {
  console.error('No functions/<room>/<name>/handler.ts found');
  process.exit(1);
}

const rows: string[] = [];
for (const folder of folders) {
  const outfile = join('dist', basename(folder), 'index.mjs');
  await build({
    entryPoints: [join(folder, 'handler.ts')],
    outfile,
    bundle: true,
    minify: true,
    sourcemap: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    mainFields: ['module', 'main'],
    // CommonJS dependencies inside an ESM bundle still call require().
    banner: {
      js: "import{createRequire}from'module';const require=createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  const bytes = statSync(outfile).size;
  const gzipped = gzipSync(readFileSync(outfile)).length;
  rows.push(
    `${outfile.padEnd(40)} ${(bytes / 1024).toFixed(0).padStart(6)} KB  ${(gzipped / 1024).toFixed(0).padStart(5)} KB gzipped`,
  );
}
console.log(rows.join('\n'));
