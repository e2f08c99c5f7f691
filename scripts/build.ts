/**
 * Bundles every Lambda (functions/<name>/handler.ts) into dist/<name>/index.mjs: ESM, minified,
 * with source maps and the AWS SDK bundled (a pinned SDK, not whatever the runtime ships).
 * `sam build` uses the same settings through each function's esbuild Metadata.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const functionsDir = 'functions';
const names = readdirSync(functionsDir).filter((name) => {
  try {
    return statSync(join(functionsDir, name, 'handler.ts')).isFile();
  } catch {
    return false;
  }
});

if (names.length === 0) {
  console.error('No functions/*/handler.ts found');
  process.exit(1);
}

const rows: string[] = [];
for (const name of names.sort()) {
  const outfile = join('dist', name, 'index.mjs');
  await build({
    entryPoints: [join(functionsDir, name, 'handler.ts')],
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
