import { describe, expect, it } from 'vitest';
import { signingHostedZone } from '#shared/ses/dkim-zones.js';

describe('signingHostedZone', () => {
  it("takes SES's SigningHostedZone as it is given, in the form records use", () => {
    expect(signingHostedZone('DKIM.eu-south-1.amazonses.com.', 'us-east-1')).toBe(
      'dkim.eu-south-1.amazonses.com',
    );
  });

  it.each([
    ['af-south-1', 'dkim.af-south-1.amazonses.com'],
    ['il-central-1', 'dkim.il-central-1.amazonses.com'],
    ['us-east-1', 'dkim.amazonses.com'],
    ['eu-west-1', 'dkim.amazonses.com'],
  ])('falls back to the documented zone of %s when SES gave none', (region, zone) => {
    expect(signingHostedZone(undefined, region)).toBe(zone);
    expect(signingHostedZone('', region)).toBe(zone);
  });
});
