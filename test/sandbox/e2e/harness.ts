/**
 * Drives a sandbox booted in the test's process over HTTP, as a client would: the API for
 * requests and status, the sandbox pages for the mailbox, and the delivered events.
 */
import type { DeliveredEvent } from '#sandbox/emulators/eventbridge.js';
import type { SandboxStack } from '#sandbox/stack.js';

export const TERMINAL_DETAIL_TYPES = [
  'Email Identity Verified',
  'Email Identity Verification Failed',
];

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: { success: boolean; data: T; error?: { code: string; message: string } };
}

export async function postIdentity(
  stack: SandboxStack,
  body: unknown,
): Promise<
  ApiResponse<{ id: string; identity: string; repeated?: boolean; execution_arn: string }>
> {
  const response = await fetch(`${stack.apiUrl}/identities`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as never };
}

export async function getJson<T = Record<string, unknown>>(
  url: string,
): Promise<{ status: number; body: T }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as T };
}

export async function getIdentity(stack: SandboxStack, identity: string) {
  return getJson<ApiResponse['body']>(`${stack.apiUrl}/identities/${encodeURIComponent(identity)}`);
}

/** The terminal event of `identity`'s run, once delivered (it may already have been). */
export function terminalEventOf(stack: SandboxStack, identity: string): Promise<DeliveredEvent> {
  const isTerminal = (event: DeliveredEvent) =>
    TERMINAL_DETAIL_TYPES.includes(event['detail-type']) && event.detail.identity === identity;
  return new Promise((resolve) => {
    const existing = stack.emulators.events.events().find(isTerminal);
    if (existing) {
      resolve(existing);
      return;
    }
    const unsubscribe = stack.emulators.events.onEvent((event) => {
      if (!isTerminal(event)) return;
      unsubscribe();
      resolve(event);
    });
  });
}

/** Every delivered event of one identity, by detail-type. */
export async function deliveredEventsOf(stack: SandboxStack, identity: string) {
  const { body } = await getJson<{ events: DeliveredEvent[] }>(
    `${stack.apiUrl}/sandbox/events?identity=${encodeURIComponent(identity)}`,
  );
  return body.events;
}

/**
 * Stops virtual time when the first event of `detailType` for `identity` is delivered, so the
 * test can act "during" the run (the hold is taken inside the PutEvents request, before time can
 * move on). Resolves with the event and the function that lets time run again.
 */
export function holdAtEvent(
  stack: SandboxStack,
  identity: string,
  detailType: string,
): Promise<{ event: DeliveredEvent; release: () => void }> {
  return new Promise((resolve) => {
    const unsubscribe = stack.emulators.events.onEvent((event) => {
      if (event['detail-type'] !== detailType || event.detail.identity !== identity) return;
      unsubscribe();
      resolve({ event, release: stack.clock.hold() });
    });
  });
}

/**
 * Stops virtual time as soon as `identity`'s run sleeps on its task token in AwaitVerification
 * (the token is in the registry then), so the test can act on a sleeping run. Resolves with the
 * function that lets time run again.
 */
export function holdWhenAsleep(stack: SandboxStack, identity: string): Promise<() => void> {
  return new Promise((resolve) => {
    const unsubscribe = stack.stateMachine.subscribe((execution, event) => {
      if (event.type !== 'TaskSubmitted') return;
      if ((JSON.parse(execution.input) as { EmailIdentity?: string }).EmailIdentity !== identity) {
        return;
      }
      const details = event.taskSubmittedEventDetails as { resource?: string };
      if (details.resource !== 'invoke.waitForTaskToken') return;
      unsubscribe();
      resolve(stack.clock.hold());
    });
  });
}
