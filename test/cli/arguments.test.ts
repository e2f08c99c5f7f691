import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '#cli/main.js';
import { Redactor } from '#cli/redact.js';
import { dkimChangeBody, startBody } from '#cli/request-body.js';
import { type FakeApi, ok, runCapture, startFakeApi } from './cli-harness.js';

// What the command line means before anything is sent: usage errors exit 2 and name the
// problem; flags become SES's request field for field.

const dir = mkdtempSync(join(tmpdir(), 'cli-args-'));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const io = (stdin = '') => ({
  stdout: () => {},
  stderr: () => {},
  env: {},
  signal: new AbortController().signal,
  sleep: async () => {},
  readStdin: async () => stdin,
});

// A server that would answer anything: the usage errors below must never reach it.
let api: FakeApi;
beforeAll(async () => {
  api = await startFakeApi(() => ok({}));
});
afterAll(async () => {
  await api.close();
});
const env = () => ({ SANDBOX_API_PORT: String(api.port) });

describe('usage errors exit 2 with the reason on stderr, and send nothing', () => {
  it.each([
    [[], /^Usage: ses-identity-verifier <command>/],
    [['verify', 'example.com'], /Unknown command "verify": one of start, status, list, check/],
    [['status'], /Name the identity: status <domain or address>/],
    [['status', 'a.example.com', 'b.example.com'], /One identity at a time/],
    [['start'], /Name the identity: start <domain or address>/],
    [['status', 'example.com', '--colour'], /Unknown option '--colour'/],
    [['list', '--limit', '0'], /--limit must be a whole number from 1, got 0/],
    [['list', '--limit', 'ten'], /--limit must be a whole number from 1, got ten/],
    [['list', 'example.com'], /list takes no identity, got example.com/],
    [['status', 'example.com', '--timeout=-1'], /--timeout must be a number of seconds above 0/],
    [
      ['status', 'example.com', '--timeout', 'soon'],
      /--timeout must be a number of seconds above 0/,
    ],
    [
      ['status', 'example.com', '--api-url', 'https://x.example', '--stack', 's'],
      /--api-url or --stack, not both/,
    ],
    [['status', 'example.com', '--unsigned'], /--unsigned goes with --api-url/],
    [['status', 'example.com', '--api-url', 'not a url'], /--api-url not a url is not a URL/],
    [['status', 'example.com', '--api-url', 'ftp://x.example'], /must be http\(s\)/],
    [
      ['status', 'example.com', '--api-url', 'https://api.example.com/v1'],
      /Cannot tell the AWS Region of api\.example\.com to sign for: pass --region/,
    ],
    [['change-dkim', 'example.com'], /Say how the domain should sign: --origin AWS_SES/],
    [
      ['change-dkim', 'example.com', '--origin', 'EXTERNAL', '--key-length', '1024'],
      /--key-length goes with --generate-key/,
    ],
    [['delete', 'example.com'], /delete example\.com asks before it deletes: pass --yes/],
  ])('%j', async (argv, message) => {
    const before = api.requests.length;
    // No Region in the environment or a profile: it can only come from the flags.
    vi.stubEnv('AWS_REGION', undefined);
    vi.stubEnv('AWS_DEFAULT_REGION', undefined);
    vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'none'));
    const run = await runCapture(argv, { env: env() });
    vi.unstubAllEnvs();

    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(api.requests.length).toBe(before);
  });

  it("says how to see a command's options after a usage error", async () => {
    const run = await runCapture(['list', '--limit', '0'], { env: env() });

    expect(run.stderr).toContain('Run `ses-identity-verifier list --help` for its options.');
  });
});

describe('--help', () => {
  it('lists every command with one line each, and exits 0', async () => {
    const run = await runCapture(['--help']);

    expect(run.code).toBe(0);
    for (const command of COMMANDS) {
      const line = run.stdout.split('\n').find((text) => text.startsWith(`  ${command.synopsis} `));
      expect(line?.replace(/ +/g, ' ')).toBe(` ${command.synopsis} ${command.summary}`);
    }
    expect(run.stdout).toContain('Exit codes: 0 ok');
  });

  it.each(COMMANDS.map((command) => [command.name]))(
    '%s --help shows its own options and the target options, and sends nothing',
    async (name) => {
      const before = api.requests.length;
      const run = await runCapture([name, '--help'], { env: env() });
      const viaHelp = await runCapture(['help', name], { env: env() });

      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^Usage: ses-identity-verifier ${name}`));
      expect(run.stdout).toContain('--api-url URL');
      expect(run.stdout).toContain('--json');
      expect(viaHelp.stdout).toBe(run.stdout);
      expect(api.requests.length).toBe(before);
    },
  );

  it.each([
    ['start', ['--tag KEY=VALUE', '--body-file FILE', '--idempotency-key KEY', '--generate-key']],
    ['list', ['--status STATUS', '--limit N']],
    ['change-dkim', ['--origin AWS_SES|EXTERNAL', '--key-secret-arn ARN']],
    ['delete', ['--yes']],
    ['events', ['--follow', '--detail-type TYPE']],
  ])('%s --help names its flags', async (name, flags) => {
    const run = await runCapture([name, '--help']);

    for (const flag of flags) expect(run.stdout).toContain(flag);
  });
});

describe("the POST /identities body from start's flags", () => {
  it("sets SES's fields from the flags, tags in order, key length as SES spells it", async () => {
    const body = await startBody(
      'mail.example.com',
      {
        tag: ['tenant=acme', 'env=prod=eu', 'flag'],
        'configuration-set': 'transactional',
        'generate-key': true,
        'key-length': '1024',
        selector: 'sel1',
        dns: 'route53',
        'hosted-zone-id': 'Z123',
      },
      io(),
      new Redactor(),
    );

    expect(body).toEqual({
      EmailIdentity: 'mail.example.com',
      Tags: [
        { Key: 'tenant', Value: 'acme' },
        { Key: 'env', Value: 'prod=eu' },
        { Key: 'flag', Value: '' },
      ],
      ConfigurationSetName: 'transactional',
      DkimSigningAttributes: {
        DomainSigningSelector: 'sel1',
        GenerateDomainSigningKey: { KeyLength: 'RSA_1024_BIT' },
      },
      Dns: { Provider: 'route53', HostedZoneId: 'Z123' },
    });
  });

  it("sends Easy DKIM's NextSigningKeyLength for --key-length alone", async () => {
    const body = await startBody(
      'mail.example.com',
      { 'key-length': '2048' },
      io(),
      new Redactor(),
    );

    expect(body.DkimSigningAttributes).toEqual({ NextSigningKeyLength: 'RSA_2048_BIT' });
  });

  it('sends only EmailIdentity when no flag is given', async () => {
    expect(await startBody('a@example.com', {}, io(), new Redactor())).toEqual({
      EmailIdentity: 'a@example.com',
    });
  });

  it("lays the flags over --body-file, adding tags to the file's", async () => {
    const path = file(
      'body.json',
      JSON.stringify({
        EmailIdentity: 'mail.example.com',
        Tags: [{ Key: 'team', Value: 'mail' }],
        Dns: { Provider: 'manual' },
      }),
    );

    const body = await startBody(
      undefined,
      { 'body-file': path, tag: ['tenant=acme'], 'hosted-zone-id': 'Z9' },
      io(),
      new Redactor(),
    );

    expect(body).toEqual({
      EmailIdentity: 'mail.example.com',
      Tags: [
        { Key: 'team', Value: 'mail' },
        { Key: 'tenant', Value: 'acme' },
      ],
      Dns: { Provider: 'manual', HostedZoneId: 'Z9' },
    });
  });

  it('reads --body-file - from standard input', async () => {
    const body = await startBody(
      undefined,
      { 'body-file': '-' },
      io('{"EmailIdentity": "ops@example.com"}'),
      new Redactor(),
    );

    expect(body).toEqual({ EmailIdentity: 'ops@example.com' });
  });

  it("refuses an identity that differs from the file's", async () => {
    const path = file('other.json', '{"EmailIdentity": "other.example.com"}');

    await expect(
      startBody('mail.example.com', { 'body-file': path }, io(), new Redactor()),
    ).rejects.toThrow(/--body-file names EmailIdentity "other.example.com": say it once/);
  });

  it('locates a JSON syntax error by line and column without quoting the file', async () => {
    const path = file(
      'broken.json',
      '{\n  "EmailIdentity": "mail.example.com",\n  "DkimSigningAttributes": {"DomainSigningPrivateKey": "MIIEsecret" ]\n}',
    );

    const error = await startBody(undefined, { 'body-file': path }, io(), new Redactor()).catch(
      (caught: Error) => caught,
    );

    expect((error as Error).message).toMatch(/is not valid JSON: \w+ at line 3, column \d+/);
    expect((error as Error).message).not.toContain('MIIEsecret');
  });

  it.each([
    ['[]', /must hold a JSON object/],
    ['', /is not valid JSON/],
  ])('refuses a --body-file holding %j', async (content, message) => {
    const path = file('odd.json', content);

    await expect(
      startBody('x.example.com', { 'body-file': path }, io(), new Redactor()),
    ).rejects.toThrow(message);
  });

  it('names a --body-file that cannot be read by its error code, not its content', async () => {
    await expect(
      startBody('x.example.com', { 'body-file': join(dir, 'missing.json') }, io(), new Redactor()),
    ).rejects.toThrow(/--body-file .*missing\.json: ENOENT/);
  });
});

describe("the PUT /identities/{identity}/dkim body from change-dkim's flags", () => {
  it.each([
    [{ origin: 'aws_ses' }, { SigningAttributesOrigin: 'AWS_SES' }],
    [
      { origin: 'AWS_SES', 'key-length': '1024' },
      {
        SigningAttributesOrigin: 'AWS_SES',
        SigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' },
      },
    ],
    [
      { 'generate-key': true },
      { SigningAttributesOrigin: 'EXTERNAL', SigningAttributes: { GenerateDomainSigningKey: {} } },
    ],
    [
      {
        'key-secret-arn': 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:dkim-AbC',
        selector: 's2',
        dns: 'manual',
      },
      {
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: {
          DomainSigningSelector: 's2',
          DomainSigningPrivateKeySecretArn:
            'arn:aws:secretsmanager:eu-west-1:123456789012:secret:dkim-AbC',
        },
        Dns: { Provider: 'manual' },
      },
    ],
  ])('%j becomes %j', async (flags, expected) => {
    expect(await dkimChangeBody(flags, io(), new Redactor())).toEqual(expected);
  });
});
