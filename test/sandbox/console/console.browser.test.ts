/**
 * The local console in a real browser: headless Chromium (Debian's `chromium`, driven by
 * playwright-core) loads the page `npm run sandbox` serves, starts a run whose records nobody
 * has added, sees it wait in AwaitVerification and each record missing on "Check now", adds the
 * records through the Route 53 API, checks again and follows the run to Verified, then saves a
 * screenshot. Every wait is on a condition in the page, never a sleep.
 *
 * Without Chromium the test is skipped on a developer's machine; in CI (CI=true), or with
 * SANDBOX_BROWSER_TEST=required, it fails instead: .ci/run installs the browser.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ChangeResourceRecordSetsCommand,
  ListHostedZonesByNameCommand,
  Route53Client,
  waitUntilResourceRecordSetsChanged,
} from '@aws-sdk/client-route-53';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdsKey } from '#test/support/key-material.js';
import { type SandboxProcess, startSandboxProcess } from './sandbox-process.js';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (path): path is string => path !== undefined && path !== '' && existsSync(path),
);
const REQUIRED = process.env.CI === 'true' || process.env.SANDBOX_BROWSER_TEST === 'required';
export const SCREENSHOT = fileURLToPath(
  new URL('../../../test-results/console/console.png', import.meta.url),
);
const IDENTITY = 'console.example.com';

/** Bounds on a hang, not speed requirements: each wait ends as soon as its condition holds. */
const WAIT_MS = 90_000;

let sandbox: SandboxProcess | undefined;
let browser: Browser | undefined;
let page: Page;
/** What the page reported as errors: none is expected. */
const pageErrors: string[] = [];

describe.skipIf(CHROMIUM === undefined && !REQUIRED)('the local console in Chromium', () => {
  beforeAll(async () => {
    if (CHROMIUM === undefined) {
      throw new Error(
        'No Chromium at /usr/bin/chromium (or CHROMIUM_PATH): CI must run this test; `apt-get install -y chromium`',
      );
    }
    [sandbox, browser] = await Promise.all([
      // At 60 virtual seconds per real second, npm run sandbox's pace.
      startSandboxProcess({ env: { SANDBOX_TIME_SCALE: '60' } }),
      chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }),
    ]);
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.setDefaultTimeout(WAIT_MS);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(`${sandbox.apiUrl}/sandbox/console`);
  }, WAIT_MS * 2);

  afterAll(async () => {
    await browser?.close();
    await sandbox?.stop();
  });

  it(
    'follows a run to Verified, with Check now showing each record missing, then found',
    async () => {
      const { awsUrl } = sandbox as SandboxProcess;
      await page.locator('h1', { hasText: 'local console' }).waitFor();

      // Start a run from the page. Manual DNS: nobody writes the records, the run waits.
      await page.fill('#start-identity', IDENTITY);
      await page.selectOption('#start-dns', 'manual');
      await page.click('#start-form button[type=submit]');
      const identityRow = page.locator(`#identities tr[data-identity="${IDENTITY}"]`);
      await identityRow.waitFor();
      await page
        .locator('#graph g[data-state="AwaitVerification"][data-status="running"]')
        .waitFor();
      await page.locator('#run-summary dl[data-status="RUNNING"]').waitFor();

      // Check now: the three CNAMEs are missing, each shown with what it should hold.
      await identityRow.locator('button.check-now').click();
      const records = page.locator('#identity-detail tr[data-record]');
      await page.locator('#identity-detail tr[data-check="MISSING"]').nth(2).waitFor();
      expect(await records.count()).toBe(3);
      expect(await page.locator('#identity-detail td.mark.bad').count()).toBe(3);
      const expected = await page
        .locator('#identity-detail tr[data-record] td:nth-child(3)')
        .allTextContents();
      const names = await records.evaluateAll((rows) =>
        rows.map((row) => row.getAttribute('data-record') as string),
      );
      expect(expected.every((value) => value.endsWith('.dkim.amazonses.com'))).toBe(true);

      // A person adds the records in Route 53, then checks again.
      const route53 = new Route53Client({
        endpoint: awsUrl,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      const zones = await route53.send(
        new ListHostedZonesByNameCommand({ DNSName: 'example.com' }),
      );
      const change = await route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zones.HostedZones?.[0]?.Id,
          ChangeBatch: {
            Changes: names.map((name, index) => ({
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: name,
                Type: 'CNAME',
                TTL: 300,
                ResourceRecords: [{ Value: expected[index] as string }],
              },
            })),
          },
        }),
      );
      await waitUntilResourceRecordSetsChanged(
        { client: route53, maxWaitTime: WAIT_MS / 1000, minDelay: 1 },
        { Id: change.ChangeInfo?.Id },
      );
      route53.destroy();
      await identityRow.locator('button.check-now').click();
      await page.locator('#identity-detail tr[data-check="OK"]').nth(2).waitFor();
      expect(await page.locator('#identity-detail td.mark.ok').count()).toBe(3);
      expect(await page.locator('#identity-detail td.mark.bad').count()).toBe(0);
      await page.locator('#identity-detail .check-note', { hasText: /^Checked at/ }).waitFor();

      // SES sees them on its next look, the sweeper wakes the run, and it ends Verified.
      await page
        .locator('#graph g[data-state="IdentityVerified"][data-status="succeeded"]')
        .waitFor();
      await page.locator('#run-summary dl[data-status="SUCCEEDED"]').waitFor();
      await page
        .locator(`#identities tr[data-identity="${IDENTITY}"][data-status="VERIFIED"]`)
        .waitFor();
      await page.locator('#events li[data-detail-type="Email Identity Verified"]').waitFor();
      expect(
        await page.locator('#events li[data-detail-type="DNS Records Required"]').count(),
      ).toBe(1);
      // The path it took is marked on the graph; the failure path is not.
      // Once the identity's view is read again (VERIFIED), the records still show as the
      // person's check found them, the run's own looks since notwithstanding.
      await page.locator('#identity-detail p .badge.VERIFIED').waitFor();
      expect(await page.locator('#identity-detail tr[data-check="OK"]').count()).toBe(3);
      const statusOf = (state: string) =>
        page.locator(`#graph g[data-state="${state}"]`).getAttribute('data-status');
      for (const state of ['CreateIdentity', 'NotifyDnsRecordsRequired', 'CheckVerification']) {
        expect(await statusOf(state), state).toBe('succeeded');
      }
      expect(await statusOf('NotifyDnsRecordsPublished')).toBe('idle');
      expect(await statusOf('DescribeFailure')).toBe('idle');
      expect(await page.locator('#graph path.edge.taken').count()).toBeGreaterThan(10);
      // The history lists the run's events with their inputs and outputs.
      expect(await page.locator('#history tr[data-event="ExecutionSucceeded"]').count()).toBe(1);
      expect(
        await page.locator('#history details summary', { hasText: 'output' }).count(),
      ).toBeGreaterThan(10);
      // Virtual time: at least SES's first look, a minute after creation.
      expect(await page.locator('#run-summary .elapsed').textContent()).toMatch(
        /^00:0[1-9]:\d\d$|^00:[1-9]\d:\d\d$/,
      );

      await mkdir(dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      console.log(`console screenshot: ${relative(process.cwd(), SCREENSHOT)}`);
      expect(pageErrors).toEqual([]);
    },
    WAIT_MS * 3,
  );

  it(
    "shows an address's verification message in the mailbox, whose link verifies it",
    async () => {
      await page.fill('#start-identity', 'ops@example.com');
      await page.selectOption('#start-dns', '');
      await page.click('#start-form button[type=submit]');
      const message = page.locator('#mailbox li[data-to="ops@example.com"]');
      await message.waitFor();
      await message.locator('button.follow-link').click();
      await message.locator('button.follow-link', { hasText: 'confirmed' }).waitFor();
      // SES sees the address confirmed, the sweeper wakes the run, and it ends Verified.
      await page
        .locator('#identities tr[data-identity="ops@example.com"][data-status="VERIFIED"]')
        .waitFor();
      await page.locator('#run-summary dl[data-status="SUCCEEDED"]').waitFor();
      // An address has no DKIM records: the graph shows the run skipped DNS.
      expect(
        await page.locator('#graph g[data-state="SkipDnsForAddress"]').getAttribute('data-status'),
      ).toBe('succeeded');
      expect(
        await page.locator('#graph g[data-state="PublishDnsRecords"]').getAttribute('data-status'),
      ).toBe('idle');
    },
    WAIT_MS * 2,
  );

  it(
    'never shows a private key, even from a run started by hand with one in its input',
    async () => {
      const { apiUrl, awsUrl } = sandbox as SandboxProcess;
      const newKey = () =>
        generateKeyPairSync('rsa', { modulusLength: 1024 })
          .privateKey.export({ type: 'pkcs1', format: 'der' })
          .toString('base64');
      // Two keys: the API's run publishes its key's public half (the modulus, which a private
      // key holds too), so that key is looked for by its private half only.
      const apiKey = newKey();
      const key = newKey();
      const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
      // Through the API: the key goes to Secrets Manager, the run gets the secret's ARN.
      const posted = await fetch(`${apiUrl}/identities`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          EmailIdentity: 'keyed.example.com',
          DkimSigningAttributes: { DomainSigningSelector: 's1', DomainSigningPrivateKey: apiKey },
        }),
      });
      expect(posted.status).toBe(202);
      // By hand through Step Functions, which the API never does: the key is in the history.
      const sfn = new SFNClient({ endpoint: awsUrl, region: 'us-east-1', credentials });
      const secrets = new SecretsManagerClient({
        endpoint: awsUrl,
        region: 'us-east-1',
        credentials,
      });
      await secrets.send(new CreateSecretCommand({ Name: 'unrelated', SecretString: key }));
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:VerifyEmailIdentity',
          name: 'by-hand-with-a-key',
          input: JSON.stringify({
            EmailIdentity: 'byhand.example.com',
            DkimSigningAttributes: { DomainSigningSelector: 's1', DomainSigningPrivateKey: key },
          }),
        }),
      );
      sfn.destroy();
      secrets.destroy();
      expect(executionArn).toBeDefined();

      // A link to the console can open on one run.
      await page.goto(`${apiUrl}/sandbox/console#run=by-hand-with-a-key`);
      await page
        .locator('#run-summary dl[data-run="by-hand-with-a-key"][data-status="FAILED"]')
        .waitFor();
      // Its graph: the failure path taken, the state whose error was caught, the Fail state.
      await page
        .locator('#graph g[data-state="VerificationFailed"][data-status="failed"]')
        .waitFor();
      expect(await page.locator('#graph g[data-status="caught"]').count()).toBeGreaterThanOrEqual(
        1,
      );
      expect(
        await page.locator('#graph g[data-state="DescribeFailure"]').getAttribute('data-status'),
      ).toBe('succeeded');
      await page.locator('#run-summary .reason').waitFor();
      // Open every input and output of its history, and the delivered events.
      await page.locator('#history tr[data-event="ExecutionFailed"]').waitFor();
      await page.evaluate(
        "document.querySelectorAll('details').forEach((d) => { d.open = true; })",
      );
      await page.locator('#history pre', { hasText: '[private key hidden]' }).first().waitFor();
      const shown = `${await page.content()}\n${await page.locator('body').innerText()}`;
      expect(holdsKey(shown, key)).toBe(false);
      // PKCS#1 holds the modulus and public exponent first, then the private exponent and primes.
      expect(holdsKey(shown, apiKey.slice(Math.ceil(apiKey.length / 2)))).toBe(false);
      expect(pageErrors).toEqual([]);
    },
    WAIT_MS * 2,
  );
});
