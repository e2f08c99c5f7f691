import type { ProbeResult } from '#shared/workflow/types.js';

/** One sentence per record that is not right, saying what to fix. */
export function explainProbeResult(result: ProbeResult): string | null {
  const what = `${result.type} ${result.name}`;
  switch (result.status) {
    case 'OK':
      return null;
    case 'MISSING':
      return `${what} is missing: add it with the value ${result.expected}.`;
    case 'WRONG_VALUE':
      return `${what} has the value ${result.found ?? '(unknown)'} instead of ${result.expected}: correct it.`;
    case 'DUPLICATED_DOMAIN':
      return `${what} was found at ${result.found ?? 'a name with the domain twice'}: your DNS provider appends the domain itself, so enter the name without it.`;
    case 'PARTIAL':
      return `${what} holds a cut DKIM key: enter the whole value (long TXT values are split into strings of at most 255 characters).`;
    case 'ERROR':
      return `${what} could not be looked up (${result.detail ?? 'DNS error'}): check that the domain's name servers answer.`;
  }
}

/**
 * A plain summary of what our DNS probe found, for failure messages: missing records and lookup
 * errors are grouped (three CNAMEs missing is one sentence), other problems get one each.
 */
export function summariseProbe(results: ProbeResult[]): string {
  if (results.length === 0) return '';
  const wrong = results.filter((r) => r.status !== 'OK');
  if (wrong.length === 0) return `All ${results.length} DKIM records are in DNS as expected.`;
  const names = (rs: ProbeResult[]) => rs.map((r) => `${r.type} ${r.name}`).join(', ');
  const sentences: string[] = [];
  const missing = wrong.filter((r) => r.status === 'MISSING');
  if (missing.length > 0) {
    sentences.push(
      `Missing: ${names(missing)}; add them with the values in "records" (or "zone_file").`,
    );
  }
  const errorsByCode = new Map<string, ProbeResult[]>();
  for (const r of wrong.filter((r) => r.status === 'ERROR')) {
    const code = (r.detail ?? 'DNS error').split(':')[0] ?? 'DNS error';
    errorsByCode.set(code, [...(errorsByCode.get(code) ?? []), r]);
  }
  for (const [code, rs] of errorsByCode) {
    sentences.push(
      `Could not be looked up (${code}): ${names(rs)}; check that the domain's name servers answer.`,
    );
  }
  for (const r of wrong.filter((r) => r.status !== 'MISSING' && r.status !== 'ERROR')) {
    sentences.push(explainProbeResult(r) ?? '');
  }
  return `${wrong.length} of ${results.length} DKIM records are not right. ${sentences.join(' ')}`;
}

/** What SES's VerificationInfo.ErrorType means, in the words of someone who has to fix it. */
export function explainSesErrorType(errorType: string | null | undefined): string | null {
  switch (errorType) {
    case 'SERVICE_ERROR':
      return 'SES had an internal error while checking.';
    case 'DNS_SERVER_ERROR':
      return "SES could not reach the domain's DNS servers.";
    case 'HOST_NOT_FOUND':
      return 'SES found no DNS record at the DKIM record names.';
    case 'TYPE_NOT_FOUND':
      return 'SES found names but not records of the expected type.';
    case 'INVALID_VALUE':
      return 'SES found the records but their values are wrong.';
    case 'REPLICATION_ACCESS_DENIED':
    case 'REPLICATION_PRIMARY_NOT_FOUND':
    case 'REPLICATION_PRIMARY_BYO_DKIM_NOT_SUPPORTED':
    case 'REPLICATION_REPLICA_AS_PRIMARY_NOT_SUPPORTED':
    case 'REPLICATION_PRIMARY_INVALID_REGION':
      return `SES reported a replication problem (${errorType}).`;
    default:
      return null;
  }
}
