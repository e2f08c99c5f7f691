import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { logger, metrics, untracedLambdaHandler } from '#shared/runtime/logs-and-metrics.js';
import { lambdaHandler, tracer } from '#shared/runtime/observability.js';

// The lines a deployed handler prints are what is checked here: logs at INFO and metrics, which
// `npm test` otherwise keeps quiet. Set before the modules create the logger and metrics.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
});

const context = {
  functionName: 'DescribeFailure',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:DescribeFailure',
  memoryLimitInMB: '256',
  awsRequestId: 'request-1',
  logGroupName: '/aws/lambda/DescribeFailure',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

/** A step that logs a line, with a key of this invocation only, and counts one metric. */
const step = async (event: { identity: string }) => {
  logger.appendKeys({ identity: event.identity });
  logger.info('Step ran');
  metrics.addMetric('StepRan', 'Count', 1);
  return { done: event.identity };
};

const wrappers = [
  ['lambdaHandler', lambdaHandler(step)],
  ['untracedLambdaHandler', untracedLambdaHandler(step)],
] as const;

describe.each(wrappers)('%s', (_name, handler) => {
  let lines: Record<string, unknown>[];
  beforeEach(() => {
    lines = [];
    // Powertools writes its JSON lines to stdout and stderr through its own Console.
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        return true;
      });
    }
  });
  afterEach(() => vi.restoreAllMocks());

  it("returns the step's result and logs with the Lambda context of the invocation", async () => {
    await expect(handler({ identity: 'example.com' }, context)).resolves.toEqual({
      done: 'example.com',
    });

    expect(lines.find((line) => line.message === 'Step ran')).toMatchObject({
      level: 'INFO',
      service: 'ses-identity-verifier',
      function_name: 'DescribeFailure',
      function_request_id: 'request-1',
      identity: 'example.com',
    });
  });

  it('flushes the metrics of each call as one EMF line in the namespace of the template', async () => {
    await handler({ identity: 'example.com' }, context);

    const emf = lines.filter((line) => '_aws' in line);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: 'SesIdentityVerifier',
            Dimensions: [['service']],
            Metrics: [{ Name: 'StepRan', Unit: 'Count' }],
          },
        ],
      },
      service: 'ses-identity-verifier',
      StepRan: 1,
    });
  });

  it("clears an invocation's log keys before the next one", async () => {
    await handler({ identity: 'example.com' }, context);
    lines.length = 0;
    logger.info('Between invocations');

    expect(lines[0]).not.toHaveProperty('identity');
  });
});

describe('lambdaHandler and untracedLambdaHandler', () => {
  it('asks the X-Ray tracer about every invocation with lambdaHandler, never with the untraced one', async () => {
    const asked = vi.spyOn(tracer, 'isTracingEnabled');
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await untracedLambdaHandler(step)({ identity: 'example.com' }, context);
      expect(asked).not.toHaveBeenCalled();

      await lambdaHandler(step)({ identity: 'example.com' }, context);
      expect(asked).toHaveBeenCalled();
    } finally {
      vi.restoreAllMocks();
    }
  });
});
