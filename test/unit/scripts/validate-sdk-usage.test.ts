import { describe, expect, it } from 'vitest';
import { sdkUsageOf } from '#scripts/validate-sdk-usage.js';

const KEY_SECRET = 'functions/shared/dkim/key-secret.ts';

describe('sdkUsageOf', () => {
  it.each([
    ['functions/steps/discard-key-secret/handler.ts', ['secretsmanager:DeleteSecret']],
    ['functions/steps/create-identity/handler.ts', ['secretsmanager:GetSecretValue']],
    ['functions/steps/change-dkim-signing/handler.ts', ['secretsmanager:GetSecretValue']],
    [
      'functions/api/start-verification/handler.ts',
      ['secretsmanager:CreateSecret', 'secretsmanager:DeleteSecret'],
    ],
  ])('gives %s only the key secret operations its code path reaches', (handler, expected) => {
    const usage = sdkUsageOf(handler);

    const secretActions = usage.actions.filter((action) => action.startsWith('secretsmanager:'));
    expect(secretActions).toEqual(expected);
    for (const action of secretActions) expect(usage.sources[action]).toEqual([KEY_SECRET]);
  });

  it('names the module that sends each command, and the dependent actions IAM needs', () => {
    const usage = sdkUsageOf('functions/steps/create-identity/handler.ts');

    expect(usage.actions).toEqual([
      'secretsmanager:GetSecretValue',
      'ses:CreateEmailIdentity',
      'ses:DeleteEmailIdentity',
      'ses:GetEmailIdentity',
      'ses:PutEmailIdentityConfigurationSetAttributes',
      'ses:PutEmailIdentityDkimSigningAttributes',
      'ses:TagResource',
      'ses:UntagResource',
    ]);
    expect(usage.sources['ses:CreateEmailIdentity']).toEqual([
      'functions/steps/create-identity/create-identity.ts',
    ]);
    expect(usage.dependent).toEqual([
      'ses:ReplicateEmailIdentityDkimSigningKeys',
      'ses:TagResource',
    ]);
  });

  it('gives the stale-record remover the record changes and its index query but no zone look-up, which only publishing makes', () => {
    expect(sdkUsageOf('functions/jobs/stale-record-remover/handler.ts').actions).toEqual([
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'route53:ChangeResourceRecordSets',
      'route53:GetChange',
      'route53:ListResourceRecordSets',
    ]);
    expect(sdkUsageOf('functions/steps/publish-dns-records/handler.ts').actions).toEqual([
      'route53:ChangeResourceRecordSets',
      'route53:GetChange',
      'route53:GetHostedZone',
      'route53:ListHostedZonesByName',
      'route53:ListResourceRecordSets',
    ]);
  });

  it('finds no AWS call in a function that makes none', () => {
    expect(sdkUsageOf('functions/steps/describe-failure/handler.ts').actions).toEqual([]);
  });
});
