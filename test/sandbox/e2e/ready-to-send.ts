import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
} from '@aws-sdk/client-route-53';
import { ListTenantResourcesCommand } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signingHostedZoneFor } from '#sandbox/emulators/ses.js';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { getIdentity, postIdentity, terminalEventOf } from './harness.js';

type Part = { status: string; records: { type: string; name: string; value: string }[] } & Record<
  string,
  unknown
>;

/**
 * A request with every part of "ready to send" (MAIL FROM, DMARC, a tenant), end to end through
 * the sandbox in `region`: the emulated SES answers as it does there (its DKIM zone, its MAIL
 * FROM feedback endpoint) and checks the records through the sandbox DNS.
 */
export function readyToSendEndToEnd(region: string): void {
  let stack: SandboxStack;

  beforeAll(async () => {
    // SES's own rate stays on: ConfigureSending's calls wait in line as in AWS.
    stack = await startStack({ zones: ['example.com'], region });
  }, 30_000);
  afterAll(async () => {
    if (!stack) return;
    for (const event of stack.emulators.events.events()) {
      expectValidDetail(event['detail-type'], event.detail);
    }
    await stack.stop();
  });

  async function recordSetsOf(name: string) {
    const zone = stack.emulators.zones.get('example.com');
    const output = await stack.clients.route53.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: zone?.id }),
    );
    return (output.ResourceRecordSets ?? []).filter((set) => set.Name === `${name}.`);
  }

  describe(`ready to send in ${region}`, () => {
    it('verifies a domain with MAIL FROM, DMARC and a tenant once SES sees every record', async () => {
      const started = await postIdentity(stack, {
        EmailIdentity: 'mail.example.com',
        MailFrom: { Domain: 'bounce.mail.example.com', BehaviorOnMxFailure: 'REJECT_MESSAGE' },
        Dmarc: { Policy: 'quarantine', Rua: 'mailto:dmarc@example.com' },
        Tenant: { Name: 'acme' },
      });
      expect(started.status).toBe(202);

      const terminal = await terminalEventOf(stack, 'mail.example.com');

      expect(terminal['detail-type']).toBe('Email Identity Verified');
      const readiness = terminal.detail.readiness as Record<string, Part>;
      expect(
        Object.fromEntries(Object.entries(readiness).map(([name, part]) => [name, part.status])),
      ).toEqual({
        dkim: 'READY',
        mail_from: 'READY',
        dmarc: 'READY',
        tenant: 'READY',
      });
      // The region's own DKIM zone and feedback endpoint, in DNS as Route 53 holds them.
      for (const record of readiness.dkim?.records ?? []) {
        expect(record.value.endsWith(`.${signingHostedZoneFor(region)}`)).toBe(true);
      }
      const [mx] = await recordSetsOf('bounce.mail.example.com').then((sets) =>
        sets.filter((s) => s.Type === 'MX'),
      );
      expect(mx?.ResourceRecords).toEqual([{ Value: `10 feedback-smtp.${region}.amazonses.com.` }]);
      const [dmarc] = await recordSetsOf('_dmarc.mail.example.com');
      expect(dmarc?.ResourceRecords).toEqual([
        { Value: '"v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"' },
      ]);
      const tenant = await stack.clients.sesv2.send(
        new ListTenantResourcesCommand({ TenantName: 'acme' }),
      );
      expect(tenant.TenantResources?.map((r) => r.ResourceArn)).toEqual([
        `arn:aws:ses:${region}:000000000000:identity/mail.example.com`,
      ]);

      const status = await getIdentity(stack, 'mail.example.com');
      expect(status.body.data).toMatchObject({
        status: 'VERIFIED',
        readiness: {
          mail_from: {
            status: 'READY',
            domain: 'bounce.mail.example.com',
            behavior_on_mx_failure: 'REJECT_MESSAGE',
          },
          dmarc: { status: 'READY', action: 'PUBLISHED' },
          tenant: { status: 'READY', name: 'acme' },
        },
      });
    });

    it('keeps the DMARC record a domain already has, and reports it', async () => {
      const zone = stack.emulators.zones.get('example.com');
      await stack.clients.route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zone?.id,
          ChangeBatch: {
            Changes: [
              {
                Action: 'CREATE',
                ResourceRecordSet: {
                  Name: '_dmarc.kept.example.com.',
                  Type: 'TXT',
                  TTL: 300,
                  ResourceRecords: [{ Value: '"v=DMARC1; p=none; rua=mailto:owner@example.com"' }],
                },
              },
            ],
          },
        }),
      );

      await postIdentity(stack, { EmailIdentity: 'kept.example.com', Dmarc: { Policy: 'reject' } });
      const terminal = await terminalEventOf(stack, 'kept.example.com');

      expect(terminal['detail-type']).toBe('Email Identity Verified');
      expect((terminal.detail.readiness as Record<string, Part>).dmarc).toMatchObject({
        status: 'READY',
        action: 'EXISTING',
      });
      const [dmarc] = await recordSetsOf('_dmarc.kept.example.com');
      expect(dmarc?.ResourceRecords).toEqual([
        { Value: '"v=DMARC1; p=none; rua=mailto:owner@example.com"' },
      ]);
    });
  });
}
