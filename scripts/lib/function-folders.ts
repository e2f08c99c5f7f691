import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What starts a function, by the folder its code lives in (DESIGN.md, "Layout"). */
export const FUNCTION_ROOMS = ['api', 'steps', 'jobs'] as const;

/** The state machine, whose SES-bound Tasks are queued rather than invoked. */
export const DEFINITION_FILE = 'statemachine/verify-email-identity.asl.json';

/** The worker that runs the steps the state machine queues on the SES request queue. */
export const SES_WORKER_HANDLER = 'functions/jobs/ses-worker/handler.ts';

/** Every folder of a room holding a `handler.ts`, `functions/<room>/<name>`, sorted. */
function handlerFolders(functionsDir: string): string[] {
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

/**
 * The steps the state machine queues for the SES request worker instead of invoking them
 * (`sqs:sendMessage.waitForTaskToken` Tasks, by the `step` of their message), as step folders:
 * their handlers run inside the worker, not as Lambdas of their own.
 */
export function queuedStepFolders(
  functionsDir = 'functions',
  definitionFile = DEFINITION_FILE,
): string[] {
  if (!existsSync(definitionFile)) return [];
  type State = {
    Resource?: string;
    Parameters?: { MessageBody?: { step?: unknown } };
    ItemProcessor?: { States: Record<string, State> };
    Iterator?: { States: Record<string, State> };
    Branches?: { States: Record<string, State> }[];
  };
  // Every state, those inside Map and Parallel states too (a replica's steps run in a Map).
  const allStates = (states: Record<string, State>): State[] =>
    Object.values(states).flatMap((state) => [
      state,
      ...allStates(state.ItemProcessor?.States ?? {}),
      ...allStates(state.Iterator?.States ?? {}),
      ...(state.Branches ?? []).flatMap((branch) => allStates(branch.States)),
    ]);
  const states = allStates(
    (JSON.parse(readFileSync(definitionFile, 'utf8')) as { States: Record<string, State> }).States,
  );
  const folders = new Set<string>();
  for (const state of states) {
    const step = state.Parameters?.MessageBody?.step;
    if (
      state.Resource === 'arn:aws:states:::sqs:sendMessage.waitForTaskToken' &&
      typeof step === 'string'
    ) {
      folders.add(
        join(functionsDir, 'steps', step.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()),
      );
    }
  }
  return [...folders].sort();
}

/**
 * Every Lambda's source folder, `functions/<room>/<name>`, sorted: the folders holding a
 * `handler.ts` in one of the rooms, but the queued steps, which the SES request worker runs.
 * The build, the template checks, the benchmarks and the tests share this list.
 */
export function functionFolders(functionsDir = 'functions'): string[] {
  const queued = new Set(queuedStepFolders(functionsDir));
  return handlerFolders(functionsDir).filter((folder) => !queued.has(folder));
}
