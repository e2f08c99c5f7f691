import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  consoleUrlFor,
  executionArnFor,
  executionNameFor,
  sha256Hex,
} from '#shared/runs/execution-names.js';

describe('executionNameFor', () => {
  const requestHash = sha256Hex('request');

  it.each([
    ['a domain', 'mail.example.com', 'mail_example_com-'],
    ['an address', 'Ops+alerts@example.com', 'Ops_alerts_example_com-'],
    [
      'a domain longer than a name allows',
      `${'x'.repeat(63)}.${'y'.repeat(63)}.${'z'.repeat(63)}.example.com`,
      'x'.repeat(52),
    ],
  ])(
    'names %s with at most 80 characters of [0-9A-Za-z_-], the identity first',
    (_what, identity, start) => {
      const name = executionNameFor(identity, requestHash);

      expect(name.length).toBeLessThanOrEqual(80);
      expect(name).toMatch(/^[0-9A-Za-z_-]+$/);
      expect(name.startsWith(start)).toBe(true);
    },
  );

  it('keeps identities apart that sanitise to the same text', () => {
    const dotted = executionNameFor('a.b.example.com', requestHash);
    const underscored = executionNameFor('a_b.example.com', requestHash);

    expect(dotted.startsWith('a_b_example_com-')).toBe(true);
    expect(underscored.startsWith('a_b_example_com-')).toBe(true);
    expect(dotted).not.toBe(underscored);
  });

  it('keeps apart long identities that differ only past the readable part', () => {
    const long = `${'x'.repeat(63)}.${'y'.repeat(63)}`;

    expect(executionNameFor(`${long}.example.com`, requestHash)).not.toBe(
      executionNameFor(`${long}.example.org`, requestHash),
    );
  });

  it('names two requests for one identity differently', () => {
    expect(executionNameFor('mail.example.com', sha256Hex('a'))).not.toBe(
      executionNameFor('mail.example.com', sha256Hex('b')),
    );
  });
});

describe('canonicalJson', () => {
  it('writes objects independently of key order, arrays in their order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}',
    );
  });
});

describe('executionArnFor', () => {
  it('builds the execution ARN from the state machine ARN', () => {
    expect(
      executionArnFor('arn:aws:states:eu-west-1:123456789012:stateMachine:Verify', 'run-1'),
    ).toBe('arn:aws:states:eu-west-1:123456789012:execution:Verify:run-1');
  });

  it('refuses an ARN that is not a state machine', () => {
    expect(() =>
      executionArnFor('arn:aws:lambda:eu-west-1:123456789012:function:Verify', 'run-1'),
    ).toThrow(/Not a state machine ARN/);
  });
});

describe('consoleUrlFor', () => {
  it.each([
    ['aws', 'https://eu-west-1.console.aws.amazon.com/'],
    ['aws-cn', 'https://eu-west-1.console.amazonaws.cn/'],
    ['aws-us-gov', 'https://eu-west-1.console.amazonaws-us-gov.com/'],
  ])('links the %s console', (partition, start) => {
    const arn = `arn:${partition}:states:eu-west-1:123456789012:execution:Verify:run-1`;
    expect(consoleUrlFor(arn)).toBe(
      `${start}states/home?region=eu-west-1#/v2/executions/details/${arn}`,
    );
  });

  it('links the console that EXECUTION_CONSOLE_URL names, the run put in its placeholders', () => {
    const arn = 'arn:aws:states:us-east-1:000000000000:execution:Verify:run-1';
    expect(consoleUrlFor(arn, 'http://127.0.0.1:3000/sandbox/console#run={executionName}')).toBe(
      'http://127.0.0.1:3000/sandbox/console#run=run-1',
    );
    expect(consoleUrlFor(arn, 'https://example.net/runs?arn={executionArn}')).toBe(
      `https://example.net/runs?arn=${encodeURIComponent(arn)}`,
    );
  });
});
