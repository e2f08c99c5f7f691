import { domainToASCII } from 'node:url';
import type { IdentityType } from '#shared/workflow/types.js';

const MAX_DOMAIN_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
const MAX_LOCAL_PART_LENGTH = 64;
// RFC 5321: a forward path is at most 256 octets, two of which are the angle brackets.
const MAX_ADDRESS_LENGTH = 254;
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
// RFC 5322 dot-atom: SES sends to ordinary mailboxes, quoted local parts are not worth the risk.
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/** An identity is an email address when it has an `@`; anything else is meant as a domain. */
export function identityTypeOf(emailIdentity: string): IdentityType {
  return emailIdentity.includes('@') ? 'EMAIL_ADDRESS' : 'DOMAIN';
}

/**
 * Lower case, internationalised labels converted to their ASCII (punycode) form, no trailing dot:
 * the form SES stores and DNS answers for. Returns '' when the name cannot be converted (it then
 * fails validation with {@link domainProblems}).
 */
export function normaliseDomain(name: string): string {
  const trimmed = name.trim().replace(/\.$/, '');
  return domainToASCII(trimmed.toLowerCase());
}

/** Why a normalised domain name is not one SES can verify; empty when it is fine. */
export function domainProblems(ascii: string): string[] {
  if (ascii === '') {
    return ['is not a valid domain name (it has characters a host name cannot have)'];
  }
  const problems: string[] = [];
  if (ascii.length > MAX_DOMAIN_LENGTH) {
    problems.push(
      `is ${ascii.length} characters long in its ASCII form; a domain name has at most ${MAX_DOMAIN_LENGTH}`,
    );
  }
  const labels = ascii.split('.');
  if (labels.length < 2) {
    problems.push('must be a domain name with at least two labels (like example.com)');
  }
  for (const label of labels) {
    if (label === '') {
      problems.push('has an empty label (a leading dot or two dots in a row)');
    } else if (label.length > MAX_LABEL_LENGTH) {
      problems.push(
        `has a label of ${label.length} characters ("${label.slice(0, 20)}..."); a label has 1 to ${MAX_LABEL_LENGTH}`,
      );
    } else if (!LDH_LABEL.test(label)) {
      problems.push(
        `has the label "${label}": a label has only letters, digits and hyphens, and does not begin or end with a hyphen`,
      );
    }
  }
  const last = labels.at(-1) ?? '';
  if (/^[0-9]+$/.test(last)) {
    problems.push('looks like an IP address; SES verifies domain names only');
  }
  return problems;
}

/**
 * Normalises an email identity as SES would store it: a domain as {@link normaliseDomain} does,
 * an address with its domain part normalised and its local part kept as given (local parts may be
 * case-sensitive). Returns the normalised name and every problem found.
 */
export function normaliseEmailIdentity(raw: string): { value: string; problems: string[] } {
  const trimmed = raw.trim();
  if (trimmed === '') {
    return { value: trimmed, problems: ['must not be empty'] };
  }
  if (identityTypeOf(trimmed) === 'DOMAIN') {
    const value = normaliseDomain(trimmed);
    return { value, problems: domainProblems(value) };
  }
  const at = trimmed.lastIndexOf('@');
  const localPart = trimmed.slice(0, at);
  const domainPart = trimmed.slice(at + 1);
  const domain = normaliseDomain(domainPart);
  const value = `${localPart}@${domain}`;
  const problems: string[] = [];
  if (localPart === '') {
    problems.push('is an email address with nothing before the @');
  } else if (localPart.length > MAX_LOCAL_PART_LENGTH) {
    problems.push(
      `has a local part of ${localPart.length} characters; an email address has at most ${MAX_LOCAL_PART_LENGTH} before the @`,
    );
  } else if (!DOT_ATOM.test(localPart)) {
    problems.push(
      'has a local part with characters an email address cannot have unquoted (or a leading, trailing or double dot)',
    );
  }
  if (domainPart === '') {
    problems.push('is an email address with nothing after the @');
  } else {
    problems.push(
      ...domainProblems(domain).map((p) => `has the domain part "${domainPart}", which ${p}`),
    );
  }
  if (value.length > MAX_ADDRESS_LENGTH) {
    problems.push(
      `is ${value.length} characters long; an email address has at most ${MAX_ADDRESS_LENGTH}`,
    );
  }
  return { value, problems };
}
