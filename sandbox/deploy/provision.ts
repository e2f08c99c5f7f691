/**
 * Creates what template.yaml declares in the emulated services before anything runs: its
 * queues (each dead-letter queue before the queue that redrives to it) and its tables.
 */

import { createTableInput } from '#sandbox/aws/dynamodb-tables.js';
import type { DynamoDbEmulator } from '#sandbox/emulators/dynamodb.js';
import type { SqsEmulator } from '#sandbox/emulators/sqs.js';
import type { Deployment, QueueSpec } from './deployment.js';

export async function provision(
  deployment: Deployment,
  services: { sqs: SqsEmulator; dynamodb: DynamoDbEmulator },
  /** Lets the sandbox's clock turn once (dynalite activates a table on a timer). */
  pause: () => Promise<void>,
): Promise<void> {
  createQueues(deployment, services.sqs);
  await services.dynamodb.createTables(
    deployment.tables.map((table) => createTableInput(table.name, table.properties)),
    pause,
  );
}

/** The template's queues, each dead-letter queue before the queue that redrives to it. */
export function createQueues(deployment: Deployment, sqs: SqsEmulator): void {
  const created = new Set<string>();
  const create = (queue: QueueSpec) => {
    if (created.has(queue.arn)) return;
    const redrive = queue.attributes.RedrivePolicy;
    const target = redrive
      ? deployment.queueByArn(
          (JSON.parse(redrive) as { deadLetterTargetArn: string }).deadLetterTargetArn,
        )
      : undefined;
    if (target) create(target);
    sqs.createQueue(queue.name, queue.attributes);
    created.add(queue.arn);
  };
  for (const queue of deployment.queues) create(queue);
}
