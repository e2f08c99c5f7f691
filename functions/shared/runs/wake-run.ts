import {
  InvalidToken,
  SendTaskSuccessCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { sfnClient } from '#shared/aws/clients/sfn.js';
import { restoreTaskToken, takeTaskToken } from '#shared/registry/registry.js';

/** The payload a woken run receives as its AwaitVerification result. */
export interface WakeUp {
  woken_by: 'sweeper' | 'check_now';
  /** SES's VerificationStatus as the waker saw it; null when it did not ask SES. */
  ses_status: string | null;
}

/**
 * Wakes the run waiting on an identity, if one is: takes its task token out of the registry (so
 * that no other waker sends it too) and completes its AwaitVerification task. False when no run
 * was waiting, or the run stopped waiting meanwhile (it timed out, or was stopped).
 */
export async function wake(table: string, identity: string, wakeUp: WakeUp): Promise<boolean> {
  const token = await takeTaskToken(table, identity);
  if (token === undefined) return false;
  try {
    await sfnClient.send(
      new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(wakeUp) }),
    );
    return true;
  } catch (error) {
    if (
      error instanceof TaskTimedOut ||
      error instanceof TaskDoesNotExist ||
      error instanceof InvalidToken
    ) {
      return false;
    }
    // Step Functions did not take it (throttled, a 5xx): the run still waits, so the next
    // waker must find its token.
    await restoreTaskToken(table, identity, token);
    throw error;
  }
}
