/**
 * What a repeated or a racing start gets, counted on the sandbox with SES at its documented rate:
 * - the same onboarding event delivered three times (EventBridge delivers at least once: the
 *   copies share the event's id) for each of N identities → runs started per identity;
 * - two different requests for one identity POSTed at the same instant, N trials → identities
 *   with more than one run (the claim is a conditional write in the registry, not a read and
 *   then a start), and what the second request was answered.
 * Exit code 1 when an identity got more than one run.
 * Usage: `npx tsx scripts/bench-start-races.ts [N]` (default 20).
 */
import { randomUUID } from 'node:crypto';
import { ListExecutionsCommand, ListStateMachinesCommand } from '@aws-sdk/client-sfn';
import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { executionPrefixFor } from '#shared/runs/execution-names.js';

/** Executions of the state machine, by the identity their name starts with. */
async function runsPerIdentity(stack: SandboxStack, identities: string[]) {
  const machines = await stack.clients.sfn.send(new ListStateMachinesCommand({}));
  const stateMachineArn = machines.stateMachines?.[0]?.stateMachineArn;
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await stack.clients.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn,
        nextToken,
      }),
    );
    for (const execution of page.executions ?? []) names.push(execution.name ?? '');
    nextToken = page.nextToken;
  } while (nextToken);
  return identities.map(
    (identity) => names.filter((name) => name.startsWith(executionPrefixFor(identity))).length,
  );
}

/** The runs per identity once the onboarding queue is empty, every copy handled. */
async function settled(stack: SandboxStack, queueUrl: string, identities: string[]) {
  while (stack.emulators.sqs.depth(queueUrl) > 0) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return runsPerIdentity(stack, identities);
}

export async function benchStartRaces(trials: number) {
  const stack = await startStack({ schedules: false });
  try {
    // 1. The same onboarding event, three times over, for each of `trials` identities.
    const queueUrl = String(
      (await stack.clients.sqs.send(new GetQueueUrlCommand({ QueueName: 'OnboardingQueue' })))
        .QueueUrl,
    );
    const source = stack.deployment.parameters.OnboardingEventSource;
    const detailType = stack.deployment.parameters.OnboardingDetailType;
    const onboarded = Array.from({ length: trials }, (_, i) => `dup-${i}.example.com`);
    await Promise.all(
      onboarded.map(async (identity) => {
        const event = {
          version: '0',
          id: randomUUID(),
          'detail-type': detailType,
          source,
          account: '000000000000',
          time: new Date(stack.clock.nowMs()).toISOString(),
          region: stack.region,
          resources: [],
          detail: { EmailIdentity: identity },
        };
        for (let copy = 0; copy < 3; copy++) {
          await stack.clients.sqs.send(
            new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(event) }),
          );
        }
      }),
    );
    const duplicateRuns = await settled(stack, queueUrl, onboarded);

    // 2. Two different requests for one identity at the same instant.
    const raced = Array.from({ length: trials }, (_, i) => `race-${i}.example.com`);
    const answers = await Promise.all(
      raced.map((identity) =>
        Promise.all(
          ['1', '2'].map(async (tenant) => {
            const response = await fetch(`${stack.apiUrl}/identities`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({
                EmailIdentity: identity,
                Tags: [{ Key: 'tenant', Value: tenant }],
              }),
            });
            await response.arrayBuffer();
            return response.status;
          }),
        ),
      ),
    );
    const racedRuns = await runsPerIdentity(stack, raced);
    const statuses: Record<string, number> = {};
    for (const status of answers.flat()) statuses[status] = (statuses[status] ?? 0) + 1;

    return {
      duplicate_events: {
        identities: trials,
        deliveries_per_event: 3,
        runs_started: duplicateRuns.reduce((a, b) => a + b, 0),
        identities_with_more_than_one_run: duplicateRuns.filter((n) => n > 1).length,
      },
      racing_requests: {
        trials,
        answers: statuses,
        runs_started: racedRuns.reduce((a, b) => a + b, 0),
        double_starts: racedRuns.filter((n) => n > 1).length,
      },
    };
  } finally {
    await stack.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchStartRaces(Number(process.argv[2] ?? 20)).then(
    (figures) => {
      process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
      const clean =
        figures.duplicate_events.identities_with_more_than_one_run === 0 &&
        figures.racing_requests.double_starts === 0;
      process.exit(clean ? 0 : 1);
    },
    (error: unknown) => {
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
