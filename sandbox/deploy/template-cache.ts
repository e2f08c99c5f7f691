import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type CfnTemplate, parseTemplate } from '#scripts/validate-cfn-yaml.js';

/**
 * Reads and parses template.yaml, through a cache of its parsed form keyed by the text's hash:
 * parsing its 1,400 lines of YAML with CloudFormation's tags was a sixth of `npm start`'s
 * start-up, for a file that seldom changes. Any change to the text parses it again.
 */
export function loadTemplateCached(path: string, cacheDir: string): CfnTemplate {
  const text = readFileSync(path, 'utf8');
  const key = createHash('sha256').update(text).digest('hex');
  const cacheFile = join(cacheDir, 'template.json');
  try {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as {
      key: string;
      path: string;
      template: CfnTemplate;
    };
    if (cached.key === key && cached.path === path) return cached.template;
  } catch {
    // No cache yet, or an unreadable one: parse.
  }
  const template = parseTemplate(text);
  try {
    mkdirSync(dirname(cacheFile), { recursive: true });
    // Written aside and renamed, so that two sandboxes starting at once never read half a file.
    const partial = `${cacheFile}.${process.pid}`;
    writeFileSync(partial, JSON.stringify({ key, path, template }));
    renameSync(partial, cacheFile);
  } catch {
    // A read-only checkout still runs, parsing every time.
  }
  return template;
}
