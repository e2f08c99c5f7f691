import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** What starts a function, by the folder its code lives in (DESIGN.md, "Layout"). */
export const FUNCTION_ROOMS = ['api', 'steps', 'jobs'] as const;

/**
 * Every Lambda's source folder, `functions/<room>/<name>`, sorted: the folders holding a
 * `handler.ts` in one of the rooms. The build, the template checks and the tests share this list.
 */
export function functionFolders(functionsDir = 'functions'): string[] {
  const folders: string[] = [];
  for (const room of FUNCTION_ROOMS) {
    const roomDir = join(functionsDir, room);
    if (!existsSync(roomDir)) continue;
    for (const name of readdirSync(roomDir)) {
      if (existsSync(join(roomDir, name, 'handler.ts'))) folders.push(join(roomDir, name));
    }
  }
  return folders.sort();
}
