import { describe, expect, it } from 'vitest';
import type { Execution, HistoryEvent } from '#sandbox/engine/executions.js';
import { causeInWords, printProgress, summarizeRuns } from '#sandbox/progress.js';

const START = Date.parse('2026-11-23T10:00:00.000Z');
// Step Functions allows 80 characters; the sandbox's API names runs about 40 long.
const LONG_NAME = `tenant_42_mail_example_com-1a2b3c4d-${'e'.repeat(44)}`;

function execution(name = LONG_NAME, status: Execution['status'] = 'RUNNING'): Execution {
  return {
    executionArn: `arn:aws:states:us-east-1:000000000000:execution:VerifyEmailIdentity:${name}`,
    name,
    stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:VerifyEmailIdentity',
    status,
    startDate: new Date(START),
    stopDate: undefined,
    input: JSON.stringify({ EmailIdentity: 'mail.example.com' }),
    output: undefined,
    error: undefined,
    cause: undefined,
    history: [],
    done: new Promise(() => {}),
  };
}

type Step = [type: string, seconds: number, details?: Record<string, unknown>];
const entered = (type: string, name: string, seconds: number): Step => [
  `${type}StateEntered`,
  seconds,
  { stateEnteredEventDetails: { name, input: '{}' } },
];
const lambdaResult = (seconds: number, payload: unknown): Step => [
  'TaskSucceeded',
  seconds,
  {
    taskSucceededEventDetails: {
      resourceType: 'lambda',
      resource: 'invoke',
      output: JSON.stringify({ StatusCode: 200, Payload: payload }),
    },
  },
];

/** The lines printProgress writes for `steps` of one execution. */
function linesFor(steps: Step[], options: { label?: boolean; startAndEnd?: boolean } = {}) {
  const run = execution();
  const lines: string[] = [];
  let listener: ((execution: Execution, event: HistoryEvent) => void) | undefined;
  printProgress(
    (callback) => {
      listener = callback;
      return () => {};
    },
    {
      write: (line) => lines.push(line),
      ...(options.label && { label: (candidate: Execution) => candidate.name }),
      ...(options.startAndEnd && { startAndEnd: true }),
    },
  );
  for (const [index, [type, seconds, details]] of steps.entries()) {
    const event = {
      id: index + 1,
      previousEventId: index,
      timestamp: new Date(START + seconds * 1000),
      type,
      ...details,
    };
    run.history.push(event);
    listener?.(run, event);
  }
  return lines;
}

describe('progress lines', () => {
  it('prints one line per Task state, with what it did, and none for Choice or Pass states', () => {
    const lines = linesFor([
      entered('Pass', 'ReadRequest', 0),
      ['PassStateExited', 0],
      entered('Task', 'CreateIdentity', 0),
      ['TaskScheduled', 0],
      [
        'TaskSucceeded',
        1,
        {
          taskSucceededEventDetails: {
            resourceType: 'sqs',
            resource: 'sendMessage.waitForTaskToken',
            output: JSON.stringify({
              identity: 'mail.example.com',
              adopted: false,
              dkim: { origin: 'EXTERNAL', selector: 's1' },
            }),
          },
        },
      ],
      entered('Choice', 'IsDomainIdentity', 1),
      ['ChoiceStateExited', 1],
      entered('Task', 'PublishDnsRecords', 1),
      ['TaskScheduled', 1],
      lambdaResult(4, {
        written: true,
        records: [{}],
        hosted_zone_name: 'example.com',
        hosted_zone_id: 'Z1',
      }),
      entered('Task', 'NotifyDnsRecordsPublished', 4),
      [
        'TaskScheduled',
        4,
        {
          taskScheduledEventDetails: {
            parameters: JSON.stringify({ Entries: [{ DetailType: 'DNS Records Published' }] }),
          },
        },
      ],
      [
        'TaskSucceeded',
        4,
        {
          taskSucceededEventDetails: {
            resourceType: 'events',
            resource: 'putEvents',
            output: JSON.stringify({ Entries: [{ EventId: 'e1' }], FailedEntryCount: 0 }),
          },
        },
      ],
    ]);
    expect(lines).toEqual([
      '[+00:00:01] CreateIdentity: SES identity mail.example.com created (BYODKIM, selector s1)',
      '[+00:00:04] PublishDnsRecords: 1 DKIM record written to Route 53 zone example.com (Z1)',
      '[+00:00:04] NotifyDnsRecordsPublished: event "DNS Records Published" delivered',
    ]);
  });

  it('lists the zone-file lines a person must add when nobody writes the records', () => {
    const lines = linesFor([
      entered('Task', 'PublishDnsRecords', 0),
      ['TaskScheduled', 0],
      lambdaResult(0, {
        written: false,
        provider: 'manual',
        provider_reason: 'no route53 zone holds example.org',
        records: [{}, {}],
        zone_file: ['a._domainkey.example.org. 1800 IN CNAME a.dkim.amazonses.com.', 'b...'],
      }),
    ]);
    expect(lines).toEqual([
      '[+00:00:00] PublishDnsRecords: 2 DKIM records to add by hand (manual): no route53 zone holds example.org',
      '    a._domainkey.example.org. 1800 IN CNAME a.dkim.amazonses.com.',
      '    b...',
    ]);
  });

  it("says why a step failed in words, from the Lambda error's message, and when it is tried again", () => {
    const lines = linesFor([
      entered('Task', 'CheckVerification', 0),
      ['TaskScheduled', 0],
      [
        'TaskFailed',
        0,
        {
          taskFailedEventDetails: {
            error: 'ThrottlingError',
            cause: JSON.stringify({
              errorType: 'ThrottlingError',
              errorMessage: 'SES throttled GetEmailIdentity',
            }),
          },
        },
      ],
      ['TaskScheduled', 3],
      [
        'TaskSucceeded',
        4,
        {
          taskSucceededEventDetails: {
            resourceType: 'sqs',
            resource: 'sendMessage.waitForTaskToken',
            output: JSON.stringify({
              checks: 1,
              dkim_status: 'PENDING',
              outcome: 'PENDING',
              next_check_seconds: 86_400,
            }),
          },
        },
      ],
    ]);
    expect(lines).toEqual([
      '[+00:00:00] CheckVerification failed: ThrottlingError - SES throttled GetEmailIdentity',
      '[+00:00:03] CheckVerification: attempt 2 after ThrottlingError',
      '[+00:00:04] CheckVerification: check 1: DKIM PENDING, outcome PENDING; sleeps until SES changes or a person checks (own look in 1d 00:00:00)',
    ]);
  });

  it("names each line by the run's full name, and says how the run ended, with the reason in words", () => {
    const lines = linesFor(
      [
        [
          'ExecutionStarted',
          0,
          {
            executionStartedEventDetails: {
              input: JSON.stringify({ EmailIdentity: 'mail.example.com' }),
            },
          },
        ],
        entered('Task', 'AwaitVerification', 0),
        ['TaskScheduled', 0],
        ['TaskTimedOut', 86_400, { taskTimedOutEventDetails: { error: 'States.Timeout' } }],
        entered('Fail', 'VerificationFailed', 259_200),
        [
          'ExecutionFailed',
          259_200,
          {
            executionFailedEventDetails: {
              error: 'TIMED_OUT',
              cause:
                'SES did not verify DKIM for mail.example.com within 72 hours of its creation.',
            },
          },
        ],
      ],
      { label: true, startAndEnd: true },
    );
    expect(lines).toEqual([
      `${LONG_NAME} [+00:00:00] started for mail.example.com`,
      `${LONG_NAME} [+1d 00:00:00] AwaitVerification: nobody woke the run, its own look is due`,
      `${LONG_NAME} [+3d 00:00:00] FAILED after 3d 00:00:00: TIMED_OUT - SES did not verify DKIM for mail.example.com within 72 hours of its creation.`,
    ]);
  });

  it('reads a cause that is not JSON as words, and an empty one as none', () => {
    expect(causeInWords('plain words')).toBe('plain words');
    expect(causeInWords(JSON.stringify({ errorMessage: 'from Lambda' }))).toBe('from Lambda');
    expect(causeInWords('')).toBeUndefined();
    expect(causeInWords(undefined)).toBeUndefined();
  });
});

describe('the summary on Ctrl-C', () => {
  it('counts the runs by how they ended, lists each with its full name, and the events by type', () => {
    const verified = {
      ...execution('run-verified', 'SUCCEEDED'),
      stopDate: new Date(START + 62_000),
    };
    const failed = {
      ...execution('run-failed', 'FAILED'),
      stopDate: new Date(START + 1000),
      error: 'DNS_PUBLISH_FAILED',
      cause: 'no route53 zone holds bad.example.org',
    };
    const running = execution(LONG_NAME);
    running.history.push({
      id: 1,
      previousEventId: 0,
      timestamp: new Date(START),
      type: 'TaskStateEntered',
      stateEnteredEventDetails: { name: 'AwaitVerification' },
    });
    const lines = summarizeRuns(
      // Newest first, as ListExecutions orders them.
      [running, failed, verified],
      [
        { 'detail-type': 'DNS Records Published' },
        { 'detail-type': 'DNS Records Published' },
        { 'detail-type': 'Email Identity Verified' },
      ],
      new Date(START + 600_000),
    );
    expect(lines).toEqual([
      'Runs: 3 (1 succeeded, 1 failed, 1 running)',
      '  run-verified  mail.example.com  SUCCEEDED after 00:01:02',
      '  run-failed  mail.example.com  FAILED after 00:00:01: DNS_PUBLISH_FAILED - no route53 zone holds bad.example.org',
      `  ${LONG_NAME}  mail.example.com  RUNNING for 00:10:00, in AwaitVerification`,
      'Events delivered: 3 (2 "DNS Records Published", 1 "Email Identity Verified")',
    ]);
  });

  it('lists at most the first runs, and says how many more there were', () => {
    const many = Array.from({ length: 5 }, (_, index) => execution(`run-${index}`));
    const lines = summarizeRuns(many, [], new Date(START), 2);
    expect(lines).toEqual([
      'Runs: 5 (5 running)',
      '  run-4  mail.example.com  RUNNING for 00:00:00, in no state yet',
      '  run-3  mail.example.com  RUNNING for 00:00:00, in no state yet',
      '  ... and 3 more',
      'Events delivered: 0',
    ]);
  });
});
