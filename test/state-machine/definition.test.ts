import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DRIFT_DETAIL_TYPES } from '#jobs/sweeper/watch-fleet.js';
import { aslProblems, type Definition } from '#scripts/asl-checks.js';
import { definitionFromSource } from '#scripts/build-asl.js';
import { loadTemplate, resourcesOfType } from '#scripts/validate-cfn-yaml.js';
import { documentedDetailTypes } from '#test/support/event-schemas.js';

const file = new URL('../../statemachine/verify-email-identity.asl.json', import.meta.url);
const load = (): Definition => JSON.parse(readFileSync(file, 'utf8')) as Definition;

describe('the VerifyEmailIdentity definition', () => {
  it('passes asl-validator and our retry, timeout and error-name checks', () => {
    expect(aslProblems(load())).toEqual([]);
  });

  it('is exactly what its YAML source generates', () => {
    expect(load()).toEqual(definitionFromSource());
  });

  it('reports a Task without TimeoutSeconds, and one that matches an error no code throws', () => {
    const definition = load();
    const task = definition.States.CheckVerification as {
      TimeoutSeconds?: number;
      Retry?: unknown[];
    };
    delete task.TimeoutSeconds;
    task.Retry?.push({ ...(task.Retry[0] as object), ErrorEquals: ['Sandbox.Crashed'] });
    expect(aslProblems(definition)).toEqual([
      'CheckVerification: a Task without TimeoutSeconds',
      'CheckVerification: matches "Sandbox.Crashed", which no code throws',
    ]);
  });

  it('uses exactly the placeholders template.yaml substitutes, PascalCase, inside strings', () => {
    const text = readFileSync(file, 'utf8');
    const placeholders = [...text.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]);
    const machine = resourcesOfType(loadTemplate(), 'AWS::Serverless::StateMachine')[0]?.[1];
    const substitutions = Object.keys(
      (machine?.Properties?.DefinitionSubstitutions ?? {}) as Record<string, unknown>,
    );
    expect(new Set(placeholders)).toEqual(new Set(substitutions));
    for (const name of substitutions) expect(name).toMatch(/^[A-Z][A-Za-z0-9]+$/);
    // Only inside strings: the file parses as JSON before any substitution.
    expect(() => JSON.parse(text)).not.toThrow();
  });

  it('names states in PascalCase', () => {
    for (const name of Object.keys(load().States)) expect(name).toMatch(/^[A-Z][A-Za-z]+$/);
  });

  it('emits only detail-types that have a JSON Schema in docs/events, the drift watch the others', () => {
    const text = readFileSync(file, 'utf8');
    const detailTypes = [...text.matchAll(/"DetailType": "([^"]+)"/g)].map((m) => m[1]);
    expect(new Set([...detailTypes, ...DRIFT_DETAIL_TYPES])).toEqual(
      new Set(documentedDetailTypes()),
    );
  });

  it('catches every error of every Task', () => {
    for (const [name, state] of Object.entries(load().States)) {
      if (state.Type !== 'Task') continue;
      expect(
        state.Catch?.map((c) => c.ErrorEquals),
        name,
      ).toContainEqual(['States.ALL']);
    }
  });

  it('sends every Catch to the one failure path, but for the few that cannot fail a run further', () => {
    const targets = Object.fromEntries(
      Object.entries(load().States).flatMap(([name, s]) =>
        (s.Catch ?? []).map((c) => [name, c.Next]),
      ),
    );
    const exceptions = {
      // The identity is verified by then: a failed clean-up is reported, not a failed run.
      ScheduleStaleRecordRemoval: 'StaleRecordsKept',
      // Already on the failure path: a rollback that fails still ends in the failure event.
      RollBackDkimSigning: 'RecordFailure',
      PublishRolledBackRecords: 'NoteRollBackUnpublished',
      // Already on the failure path: the failure event goes out whatever happens.
      DescribeFailure: 'DescribeFailureFallback',
      DiscardKeySecretAfterFailure: 'HoldsIdentity',
      // A run that no longer holds its identity in the registry still reports how it ended.
      RecordVerified: 'NotifyIdentityVerified',
      RecordFailure: 'NotifyVerificationFailed',
      // Nothing is left to notify with: the execution fails, and the alarm on failed executions fires.
      NotifyIdentityVerified: 'VerifiedEventNotDelivered',
      NotifyVerificationFailed: 'FailureEventNotDelivered',
      NotifyIdentityDeleted: 'DeletedEventNotDelivered',
    };
    for (const [name, next] of Object.entries(targets)) {
      expect(next, name).toBe(exceptions[name as keyof typeof exceptions] ?? 'DescribeFailure');
    }
  });

  it.each([
    [
      'a retrier without FULL jitter',
      (d: Definition) => delete d.States.CreateIdentity?.Retry?.[0]?.JitterStrategy,
      'JitterStrategy must be FULL',
    ],
    [
      'a BackoffRate below 1',
      (d: Definition) =>
        Object.assign(d.States.CreateIdentity?.Retry?.[0] ?? {}, { BackoffRate: 0.5 }),
      'BackoffRate below 1',
    ],
    [
      'a retried terminal error',
      (d: Definition) => d.States.CreateIdentity?.Retry?.[1]?.ErrorEquals.push('ConflictError'),
      'retries ConflictError, a terminal error',
    ],
    [
      'an error name no code throws',
      (d: Definition) => d.States.CreateIdentity?.Retry?.[1]?.ErrorEquals.push('ThrottledError'),
      'which no code throws',
    ],
    [
      'a typo in an integration ARN',
      (d: Definition) =>
        Object.assign(d.States.CreateIdentity ?? {}, { Resource: 'arn:aws:states:::lambda:invok' }),
      'unknown Resource',
    ],
  ])('reports %s', (_case, mutate, problem) => {
    const definition = load();
    mutate(definition);
    expect(aslProblems(definition).join('\n')).toContain(problem);
  });
});
