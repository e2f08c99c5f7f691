/**
 * Imports the Lambda handlers of functions/ in-process, as Lambda loads the bundle built from
 * each folder (template.yaml's CodeUri). Part of the ASL runner (see definition.ts). Import only
 * after the handlers' environment is set: they read it at module scope, as in Lambda.
 */
import type { LambdaHandler } from './local-tasks.js';

/** Imports functions/<room>/<name>/handler.ts (`room/name`, e.g. `steps/create-identity`). */
export async function importHandler(folder: string): Promise<LambdaHandler> {
  // A computed URL (not a template literal in import()), so vitest resolves it as tsx does.
  const url = new URL(`../../functions/${folder}/handler.ts`, import.meta.url).href;
  const module = (await import(/* @vite-ignore */ url)) as { handler?: unknown };
  if (typeof module.handler !== 'function') {
    throw new Error(`functions/${folder}/handler.ts exports no handler`);
  }
  return module.handler as LambdaHandler;
}
