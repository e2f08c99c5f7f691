/**
 * The bodies of `start` (POST /identities) and `change-dkim` (PUT /identities/{identity}/dkim)
 * from the command's flags, on top of a `--body-file` for anything the flags do not say. The
 * request is checked by the API, by the one schema it applies to every request; the CLI only
 * shapes it. A private key read from a file goes into the body and nowhere else.
 */
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type ParseError, parse, printParseErrorCode } from 'jsonc-parser';
import { UsageError } from './errors.js';
import type { CliIo } from './io.js';
import type { Redactor } from './redact.js';

type Json = Record<string, unknown>;

/** The flags that shape a DKIM signing request (both commands). */
export interface SigningFlags {
  selector?: string | undefined;
  'generate-key'?: boolean | undefined;
  'key-length'?: string | undefined;
  'key-file'?: string | undefined;
  'key-secret-arn'?: string | undefined;
  dns?: string | undefined;
  'hosted-zone-id'?: string | undefined;
  'body-file'?: string | undefined;
}

export interface StartFlags extends SigningFlags {
  tag?: string[] | undefined;
  'configuration-set'?: string | undefined;
}

export interface DkimChangeFlags extends SigningFlags {
  origin?: string | undefined;
}

/** `1024` and `2048` as SES spells them; anything else goes as typed, for the API to judge. */
function keyLength(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  return raw === '1024' || raw === '2048' ? `RSA_${raw}_BIT` : raw;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Field names under which a body may carry a private key, in any letter case. */
const KEY_FIELD = /private.?key(?!.?secret)/i;

/** Remembers every string under a key-like field name, so that none of it is ever printed. */
function withholdKeys(value: unknown, redactor: Redactor, underKeyField = false): void {
  if (typeof value === 'string') {
    if (underKeyField) redactor.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) withholdKeys(item, redactor, underKeyField);
  } else if (isObject(value)) {
    for (const [field, item] of Object.entries(value)) {
      withholdKeys(item, redactor, underKeyField || KEY_FIELD.test(field));
    }
  }
}

/**
 * The JSON object in `--body-file` (`-` for standard input). A syntax error is located by line
 * and column, never quoted: the file may hold a key.
 */
async function readBodyFile(file: string, io: CliIo, redactor: Redactor): Promise<Json> {
  let text: string;
  try {
    text = file === '-' ? await io.readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--body-file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'cannot be read'}`,
    );
  }
  const errors: ParseError[] = [];
  const value: unknown = parse(text.replace(/^\uFEFF/, ''), errors, {
    disallowComments: true,
    allowTrailingComma: false,
    allowEmptyContent: false,
  });
  const first = errors[0];
  if (first !== undefined) {
    const before = text.slice(0, first.offset).split('\n');
    throw new UsageError(
      `--body-file ${file} is not valid JSON: ${printParseErrorCode(first.error)} at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`,
    );
  }
  if (!isObject(value)) throw new UsageError(`--body-file ${file} must hold a JSON object`);
  withholdKeys(value, redactor);
  return value;
}

/**
 * The base64 DER of the RSA private key in `file` (PEM, or base64 DER as the API takes it). The
 * key is withheld from all output before anything else happens to it; an error names the file,
 * never its content.
 */
export async function readPrivateKey(file: string, redactor: Redactor): Promise<string> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    throw new UsageError(
      `--key-file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'cannot be read'}`,
    );
  }
  redactor.add(text);
  if (!text.includes('-----BEGIN')) return text.replace(/\s+/g, '');
  try {
    const base64 = createPrivateKey(text)
      .export({ type: 'pkcs1', format: 'der' })
      .toString('base64');
    redactor.add(base64);
    return base64;
  } catch {
    throw new UsageError(`--key-file ${file}: not a readable RSA private key in PEM`);
  }
}

/** The signing attributes the flags ask for, merged over `base`. */
async function signingAttributes(
  flags: SigningFlags,
  base: unknown,
  redactor: Redactor,
  easyDkimLength: boolean,
): Promise<Json | undefined> {
  const attributes: Json = isObject(base) ? { ...base } : {};
  if (flags.selector !== undefined) attributes.DomainSigningSelector = flags.selector;
  if (flags['key-file'] !== undefined) {
    attributes.DomainSigningPrivateKey = await readPrivateKey(flags['key-file'], redactor);
  }
  if (flags['key-secret-arn'] !== undefined) {
    attributes.DomainSigningPrivateKeySecretArn = flags['key-secret-arn'];
  }
  const length = keyLength(flags['key-length']);
  if (flags['generate-key']) {
    attributes.GenerateDomainSigningKey = length === undefined ? {} : { KeyLength: length };
  } else if (length !== undefined) {
    if (!easyDkimLength) {
      throw new UsageError(
        '--key-length goes with --generate-key, or with --origin AWS_SES for the next Easy DKIM key',
      );
    }
    attributes.NextSigningKeyLength = length;
  }
  return Object.keys(attributes).length > 0 ? attributes : undefined;
}

function dnsOf(flags: SigningFlags, base: unknown): Json | undefined {
  const dns: Json = isObject(base) ? { ...base } : {};
  if (flags.dns !== undefined) dns.Provider = flags.dns;
  if (flags['hosted-zone-id'] !== undefined) dns.HostedZoneId = flags['hosted-zone-id'];
  return Object.keys(dns).length > 0 ? dns : undefined;
}

/** True when the flags ask for BYODKIM. */
function asksForByodkim(flags: SigningFlags): boolean {
  return (
    flags.selector !== undefined ||
    flags['generate-key'] === true ||
    flags['key-file'] !== undefined ||
    flags['key-secret-arn'] !== undefined
  );
}

/** The POST /identities body: SES's CreateEmailIdentity request plus our `Dns`. */
export async function startBody(
  identity: string | undefined,
  flags: StartFlags,
  io: CliIo,
  redactor: Redactor,
): Promise<Json> {
  const base =
    flags['body-file'] === undefined ? {} : await readBodyFile(flags['body-file'], io, redactor);
  const body: Json = { ...base };
  if (identity !== undefined) {
    if (base.EmailIdentity !== undefined && base.EmailIdentity !== identity) {
      throw new UsageError(
        `The identity is ${identity}, but --body-file names EmailIdentity ${JSON.stringify(base.EmailIdentity)}: say it once`,
      );
    }
    body.EmailIdentity = identity;
  } else if (base.EmailIdentity === undefined) {
    throw new UsageError('Name the identity: start <domain or address>');
  }
  const dkim = await signingAttributes(flags, base.DkimSigningAttributes, redactor, true);
  if (dkim !== undefined) body.DkimSigningAttributes = dkim;
  if (flags.tag !== undefined) {
    const tags = flags.tag.map((tag) => {
      const at = tag.indexOf('=');
      return at < 0 ? { Key: tag, Value: '' } : { Key: tag.slice(0, at), Value: tag.slice(at + 1) };
    });
    body.Tags = [...(Array.isArray(base.Tags) ? base.Tags : []), ...tags];
  }
  if (flags['configuration-set'] !== undefined) {
    body.ConfigurationSetName = flags['configuration-set'];
  }
  const dns = dnsOf(flags, base.Dns);
  if (dns !== undefined) body.Dns = dns;
  return body;
}

/** The PUT /identities/{identity}/dkim body: SES's PutEmailIdentityDkimSigningAttributes request. */
export async function dkimChangeBody(
  flags: DkimChangeFlags,
  io: CliIo,
  redactor: Redactor,
): Promise<Json> {
  const base =
    flags['body-file'] === undefined ? {} : await readBodyFile(flags['body-file'], io, redactor);
  const body: Json = { ...base };
  const origin =
    flags.origin?.toUpperCase() ??
    (asksForByodkim(flags) ? 'EXTERNAL' : (base.SigningAttributesOrigin as string | undefined));
  if (origin === undefined) {
    throw new UsageError(
      'Say how the domain should sign: --origin AWS_SES (Easy DKIM) or --origin EXTERNAL (BYODKIM: --generate-key, --key-secret-arn or --key-file)',
    );
  }
  body.SigningAttributesOrigin = origin;
  const attributes = await signingAttributes(
    flags,
    base.SigningAttributes,
    redactor,
    origin === 'AWS_SES',
  );
  if (attributes !== undefined) body.SigningAttributes = attributes;
  const dns = dnsOf(flags, base.Dns);
  if (dns !== undefined) body.Dns = dns;
  return body;
}
