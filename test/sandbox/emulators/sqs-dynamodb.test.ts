import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  MessageNotInflight,
  PurgeQueueCommand,
  PurgeQueueInProgress,
  QueueDoesNotExist,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { md5OfMessageAttributes } from '#sandbox/emulators/sqs.js';
import { clientConfig, MINUTE, type Stack, startStack } from './stack.js';

describe('emulated SQS, through the SDK', () => {
  let stack: Stack;
  let sqs: SQSClient;
  beforeEach(async () => {
    stack = await startStack({ dns: false });
    stack.sqs.setBaseUrl(stack.url);
    sqs = new SQSClient(clientConfig(stack.url));
  });
  afterEach(async () => {
    sqs.destroy();
    await stack.stop();
  });

  const fifoQueue = async (attributes: Record<string, string> = {}) =>
    (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: 'work.fifo',
          Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true', ...attributes },
        }),
      )
    ).QueueUrl as string;
  const receive = async (QueueUrl: string, MaxNumberOfMessages = 10) =>
    (
      await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages,
          MessageSystemAttributeNames: ['All'],
        }),
      )
    ).Messages ?? [];

  it('hands out a FIFO group in order, and none of it while one of its messages is in flight', async () => {
    const url = await fifoQueue({ VisibilityTimeout: '30' });
    for (const body of ['a1', 'a2', 'a3']) {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: url, MessageBody: body, MessageGroupId: 'a' }),
      );
    }
    await sqs.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: 'b1', MessageGroupId: 'b' }),
    );

    const first = await receive(url, 2);
    const second = await receive(url);
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: first[0]?.ReceiptHandle }),
    );
    const whileInFlight = await receive(url);
    stack.clock.advance(31_000);
    const afterTimeout = await receive(url);

    expect(first.map((m) => m.Body)).toEqual(['a1', 'a2']);
    // a3 waits behind a2, in flight; group b is free.
    expect(second.map((m) => m.Body)).toEqual(['b1']);
    expect(whileInFlight).toEqual([]);
    expect(afterTimeout.map((m) => [m.Body, m.Attributes?.ApproximateReceiveCount])).toEqual([
      ['a2', '2'],
      ['a3', '1'],
      ['b1', '2'],
    ]);
    expect(afterTimeout[0]?.Attributes).toMatchObject({ MessageGroupId: 'a' });
    expect(BigInt(afterTimeout[1]?.Attributes?.SequenceNumber ?? 0)).toBeGreaterThan(
      BigInt(afterTimeout[0]?.Attributes?.SequenceNumber ?? 0),
    );
  });

  it("hands out a long group's messages ten at a time in order, another group beside it", async () => {
    const url = await fifoQueue({ VisibilityTimeout: '30' });
    for (let i = 0; i < 25; i += 5) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: Array.from({ length: 5 }, (_, k) => ({
            Id: `a${i + k}`,
            MessageBody: `a${i + k}`,
            MessageGroupId: 'a',
          })),
        }),
      );
    }
    await sqs.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: 'b0', MessageGroupId: 'b' }),
    );
    const a = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, k) => `a${from + k}`);
    const done = async (batch: { ReceiptHandle?: string }[]) => {
      for (const message of batch) {
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }),
        );
      }
    };

    const first = await receive(url);
    // Group a is in flight: only b, behind its 25 messages, may go.
    const whileAInFlight = await receive(url);
    await done(first);
    const second = await receive(url);
    await done(second);
    const third = await receive(url);

    expect(first.map((m) => m.Body)).toEqual(a(0, 10));
    expect(whileAInFlight.map((m) => m.Body)).toEqual(['b0']);
    expect(second.map((m) => m.Body)).toEqual(a(10, 20));
    expect(third.map((m) => m.Body)).toEqual(a(20, 25));
  });

  it('deduplicates the same content for five minutes, then takes it again', async () => {
    const url = await fifoQueue();
    const send = () =>
      sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'same', MessageGroupId: 'g' }));

    const first = await send();
    const again = await send();
    stack.clock.advance(5 * MINUTE);
    const later = await send();

    expect(again.MessageId).toBe(first.MessageId);
    expect(later.MessageId).not.toBe(first.MessageId);
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    expect(attributes.Attributes).toEqual({ ApproximateNumberOfMessages: '2' });
  });

  it('moves a message received maxReceiveCount times to the dead-letter queue', async () => {
    const dlq = (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: 'dead',
          Attributes: { MessageRetentionPeriod: '1209600' },
        }),
      )
    ).QueueUrl as string;
    const url = (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: 'live',
          Attributes: {
            VisibilityTimeout: '10',
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:dead',
              maxReceiveCount: 2,
            }),
          },
        }),
      )
    ).QueueUrl as string;
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));

    const deliveries: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      deliveries.push((await receive(url)).length);
      stack.clock.advance(11_000);
    }
    const dead = await receive(dlq);

    expect(deliveries).toEqual([1, 1, 0]);
    expect(dead.map((m) => m.Body)).toEqual(['poison']);
    expect(dead[0]?.Attributes?.DeadLetterQueueSourceArn).toBe(
      'arn:aws:sqs:us-east-1:000000000000:live',
    );
  });

  it("names SQS's errors as the SDK knows them, with the query protocol's codes", async () => {
    const url = await fifoQueue();
    await sqs.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: 'x', MessageGroupId: 'g' }),
    );
    const [message] = await receive(url);
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message?.ReceiptHandle }),
    );

    const missing = sqs.send(new GetQueueUrlCommand({ QueueName: 'nope' }));
    await expect(missing).rejects.toBeInstanceOf(QueueDoesNotExist);
    await expect(missing).rejects.toMatchObject({
      Code: 'AWS.SimpleQueueService.NonExistentQueue',
    });
    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'no group' })),
    ).rejects.toMatchObject({ name: 'MissingParameter' });
    await expect(
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: message?.ReceiptHandle,
          VisibilityTimeout: 5,
        }),
      ),
    ).rejects.toBeInstanceOf(MessageNotInflight);
    await expect(
      sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: 'garbage' })),
    ).rejects.toBeInstanceOf(ReceiptHandleIsInvalid);
    await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    await expect(sqs.send(new PurgeQueueCommand({ QueueUrl: url }))).rejects.toBeInstanceOf(
      PurgeQueueInProgress,
    );
    expect(stack.metrics.snapshot()['sqs:GetQueueUrl']).toEqual({ ok: 0, throttled: 0, failed: 1 });
  });

  it('sends batches and message attributes with the MD5s the SDK checks', async () => {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: 'plain' }))).QueueUrl as string;
    const attributes = {
      kind: { DataType: 'String', StringValue: 'onboarding' },
      blob: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) },
    };
    const sent = await sqs.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: 'one', MessageAttributes: attributes }),
    );
    const batch = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'a', MessageBody: 'two' },
          { Id: 'b', MessageBody: 'three' },
        ],
      }),
    );
    const messages = (
      await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ['All'],
        }),
      )
    ).Messages;

    expect(sent.MD5OfMessageAttributes).toBe(
      md5OfMessageAttributes({
        kind: { DataType: 'String', StringValue: 'onboarding' },
        blob: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]).toString('base64') },
      }),
    );
    expect(batch.Successful?.map((entry) => entry.Id)).toEqual(['a', 'b']);
    expect(messages?.map((m) => m.Body)).toEqual(['one', 'two', 'three']);
    expect(messages?.[0]?.MessageAttributes?.kind?.StringValue).toBe('onboarding');
  });

  it('answers a long poll as soon as a message comes', async () => {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: 'long' }))).QueueUrl as string;
    const polled = sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20 }));
    setTimeout(() => {
      void sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'hello' }));
    }, 50);

    expect((await polled).Messages?.map((m) => m.Body)).toEqual(['hello']);
  });

  it('lists queues by prefix, a page at a time', async () => {
    for (const name of ['team-a', 'team-b', 'other']) {
      await sqs.send(new CreateQueueCommand({ QueueName: name }));
    }

    const first = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'team', MaxResults: 1 }));
    const second = await sqs.send(
      new ListQueuesCommand({ QueueNamePrefix: 'team', MaxResults: 1, NextToken: first.NextToken }),
    );

    expect([...(first.QueueUrls ?? []), ...(second.QueueUrls ?? [])]).toEqual([
      `${stack.url}/000000000000/team-a`,
      `${stack.url}/000000000000/team-b`,
    ]);
    expect(second.NextToken).toBeUndefined();
  });
});

describe('emulated DynamoDB (dynalite), through the endpoint', () => {
  let stack: Stack;
  let dynamodb: DynamoDBClient;
  beforeEach(async () => {
    stack = await startStack({ dns: false });
    dynamodb = new DynamoDBClient(clientConfig(stack.url));
  });
  afterEach(async () => {
    dynamodb.destroy();
    await stack.stop();
  });

  it('keeps items, refuses a failed condition as DynamoDB does, and counts each call', async () => {
    await stack.dynamodb.createTables(
      [
        {
          TableName: 'things',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        },
      ],
      () => new Promise((resolve) => setTimeout(resolve, 5)),
    );
    const put = () =>
      dynamodb.send(
        new PutItemCommand({
          TableName: 'things',
          Item: { id: { S: 'a' } },
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      );

    await put();
    await expect(put()).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    const item = await dynamodb.send(
      new GetItemCommand({ TableName: 'things', Key: { id: { S: 'a' } } }),
    );
    await expect(
      dynamodb.send(new CreateTableCommand({ TableName: 'things' } as never)),
    ).rejects.toMatchObject({ name: 'ValidationException' });

    expect(item.Item).toEqual({ id: { S: 'a' } });
    expect(stack.metrics.snapshot()['dynamodb:PutItem']).toEqual({
      ok: 1,
      throttled: 0,
      failed: 1,
    });
  });

  it('keeps every item in an index, whatever else shares its key there, and pages through them', async () => {
    await stack.dynamodb.createTables(
      [
        {
          TableName: 'fleet',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'id', AttributeType: 'S' },
            { AttributeName: 'status', AttributeType: 'S' },
            { AttributeName: 'due', AttributeType: 'S' },
          ],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          GlobalSecondaryIndexes: [
            {
              IndexName: 'ByDue',
              KeySchema: [
                { AttributeName: 'status', KeyType: 'HASH' },
                { AttributeName: 'due', KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['note'] },
            },
          ],
        },
      ],
      () => new Promise((resolve) => setTimeout(resolve, 5)),
    );
    // Pairs whose table keys dynalite 4.0.0 hashed alike, under one index key: it kept one of each.
    const ids = [
      'tenant958.example.com',
      'tenant4348.example.com',
      'tenant1551.example.com',
      'tenant9506.example.com',
      'other.example.com',
    ];
    for (const id of ids) {
      await dynamodb.send(
        new PutItemCommand({
          TableName: 'fleet',
          Item: {
            id: { S: id },
            status: { S: 'VERIFIED' },
            due: { S: '2026-12-01T10:00:00.000Z' },
            note: { S: id },
            big: { S: 'x' },
          },
        }),
      );
    }
    const query = async (status: string) => {
      const found: NonNullable<QueryCommandOutput['Items']> = [];
      let start: QueryCommandOutput['LastEvaluatedKey'];
      do {
        const page: QueryCommandOutput = await dynamodb.send(
          new QueryCommand({
            TableName: 'fleet',
            IndexName: 'ByDue',
            KeyConditionExpression: '#s = :s AND #d <= :d',
            ExpressionAttributeNames: { '#s': 'status', '#d': 'due' },
            ExpressionAttributeValues: {
              ':s': { S: status },
              ':d': { S: '2026-12-01T10:00:00.000Z' },
            },
            ScanIndexForward: false,
            Limit: 2,
            ExclusiveStartKey: start,
          }),
        );
        found.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start !== undefined);
      return found;
    };

    const verified = await query('VERIFIED');
    // One item leaves the index when it changes status, the others stay.
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: 'fleet',
        Key: { id: { S: 'tenant958.example.com' } },
        UpdateExpression: 'SET #s = :s',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': { S: 'DEGRADED' } },
      }),
    );

    expect(verified.map((item) => item.id?.S).sort()).toEqual([...ids].sort());
    expect(verified[0]).not.toHaveProperty('big');
    expect((await query('VERIFIED')).map((item) => item.id?.S).sort()).toEqual(
      ids.filter((id) => id !== 'tenant958.example.com').sort(),
    );
    expect((await query('DEGRADED')).map((item) => item.id?.S)).toEqual(['tenant958.example.com']);
  });
});
