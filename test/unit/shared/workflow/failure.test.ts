import { describe, expect, it } from 'vitest';
import { type SendingFacts, sendingAfterFailure } from '#shared/workflow/failure.js';

const facts = (fields: Partial<SendingFacts>): SendingFacts => ({
  identity: 'example.com',
  switched: null,
  verifiedBefore: null,
  verifiedNow: null,
  ...fields,
});

describe('sendingAfterFailure', () => {
  it.each([
    [
      'a change that never switched SES, from a domain that could send',
      facts({ switched: false, verifiedBefore: true }),
      true,
      'SES was not switched',
    ],
    [
      'a change that never switched SES, from a domain that could not send',
      facts({ switched: false, verifiedBefore: false }),
      false,
      'not verified for sending before the change either',
    ],
    [
      'a change SES failed after the switch',
      facts({ switched: true, switchedAt: '2026-11-23T10:00:00.000Z', verifiedNow: false }),
      false,
      'SES was switched to the new DKIM signing at 2026-11-23T10:00:00.000Z',
    ],
    [
      'a change after which SES still verifies the domain',
      facts({ switched: true, verifiedNow: true }),
      true,
      'SES reports it verified for sending',
    ],
    ['a creation SES has not verified', facts({ verifiedNow: false }), false, 'cannot send yet'],
    ['a run that failed before it looked at SES', facts({}), false, 'is not known here'],
  ])('says so for %s', (_label, input, canStillSend, words) => {
    const sending = sendingAfterFailure(input);

    expect(sending.can_still_send).toBe(canStillSend);
    expect(sending.sending).toContain(words);
  });
});
