import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseIdentityRequest } from '#shared/request/index.js';
import { ValidationError } from '#shared/workflow/errors.js';

/** The problems of a request, as the API and the failure event list them. */
function problemsOf(request: unknown): { field: string; message: string }[] {
  try {
    parseIdentityRequest(request, { keyDelivery: 'secret' });
    return [];
  } catch (error) {
    if (error instanceof ValidationError) return error.details;
    throw error;
  }
}

describe('Replicas in a request', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("accepts distinct SES Regions other than the stack's own, and keeps them as given", () => {
    vi.stubEnv('AWS_REGION', 'us-east-1');

    const request = parseIdentityRequest(
      { EmailIdentity: 'example.com', Replicas: ['eu-west-1', 'ap-southeast-2'] },
      { keyDelivery: 'secret' },
    );

    expect(request.Replicas).toEqual(['eu-west-1', 'ap-southeast-2']);
  });

  it.each([
    [
      'a Region SES does not offer DEED in',
      { EmailIdentity: 'example.com', Replicas: ['eu-west-9'] },
      { field: 'Replicas[0]', message: expect.stringContaining('not an SES Region') },
    ],
    [
      'a Region in upper case',
      { EmailIdentity: 'example.com', Replicas: ['EU-WEST-1'] },
      { field: 'Replicas[0]', message: expect.stringContaining('in lower case') },
    ],
    [
      "the stack's own Region",
      { EmailIdentity: 'example.com', Replicas: ['us-east-1'] },
      {
        field: 'Replicas[0]',
        message: expect.stringContaining("this stack's own Region (us-east-1)"),
      },
    ],
    [
      'a Region twice',
      { EmailIdentity: 'example.com', Replicas: ['eu-west-1', 'eu-west-1'] },
      { field: 'Replicas[1]', message: 'repeats Replicas[0]; each Region gets one replica' },
    ],
    [
      'an email address',
      { EmailIdentity: 'ops@example.com', Replicas: ['eu-west-1'] },
      { field: 'Replicas', message: expect.stringContaining('only to a domain identity') },
    ],
    [
      'BYODKIM',
      {
        EmailIdentity: 'example.com',
        Replicas: ['eu-west-1'],
        DkimSigningAttributes: { DomainSigningSelector: 's1', GenerateDomainSigningKey: {} },
      },
      { field: 'Replicas', message: expect.stringContaining('needs Easy DKIM') },
    ],
    [
      'a list that is not one',
      { EmailIdentity: 'example.com', Replicas: 'eu-west-1' },
      { field: 'Replicas', message: 'must be an array of Region codes' },
    ],
    [
      'a Region that is not a string',
      { EmailIdentity: 'example.com', Replicas: [42] },
      { field: 'Replicas[0]', message: 'must be a Region code' },
    ],
  ])('refuses %s, naming the field and the rule', (_case, request, problem) => {
    vi.stubEnv('AWS_REGION', 'us-east-1');

    expect(problemsOf(request)).toContainEqual(problem);
  });

  it("refuses a Region outside the stack's ReplicaRegions, naming the ones it allows", () => {
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('SES_REPLICA_REGIONS', 'eu-west-1,ap-southeast-2');

    expect(
      problemsOf({ EmailIdentity: 'example.com', Replicas: ['eu-west-1', 'sa-east-1'] }),
    ).toEqual([
      {
        field: 'Replicas[1]',
        message:
          'is not one of the Regions this stack may create replicas in (its ReplicaRegions parameter: eu-west-1, ap-southeast-2)',
      },
    ]);
  });

  it('refuses every Region when the stack allows none', () => {
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('SES_REPLICA_REGIONS', '');

    expect(problemsOf({ EmailIdentity: 'example.com', Replicas: ['eu-west-1'] })).toEqual([
      {
        field: 'Replicas[0]',
        message: expect.stringContaining('ReplicaRegions parameter is empty'),
      },
    ]);
  });
});
