import { describe, expect, it } from 'vitest';
import { DEFAULT_TIME_SCALE, portFromEnv, regionFromEnv, timeScaleFromEnv } from '#sandbox/env.js';

describe('the sandbox settings', () => {
  it('runs `npm run sandbox` at 60 virtual seconds a second and `npm start` as fast as it can', () => {
    expect(timeScaleFromEnv(DEFAULT_TIME_SCALE.sandbox, {})).toBe(60);
    expect(timeScaleFromEnv(DEFAULT_TIME_SCALE.start, {})).toBeUndefined();
  });

  it.each([
    ['max', undefined],
    ['3600', 3600],
    ['0.5', 0.5],
  ])('reads SANDBOX_TIME_SCALE=%s', (raw, expected) => {
    expect(timeScaleFromEnv(60, { SANDBOX_TIME_SCALE: raw })).toBe(expected);
  });

  it.each(['0', '-1', 'fast'])('rejects SANDBOX_TIME_SCALE=%s, naming the variable', (raw) => {
    expect(() => timeScaleFromEnv(60, { SANDBOX_TIME_SCALE: raw })).toThrow(/SANDBOX_TIME_SCALE/);
  });

  it('reads SANDBOX_REGION, us-east-1 by default, and rejects what is not a region', () => {
    expect(regionFromEnv({})).toBe('us-east-1');
    expect(regionFromEnv({ SANDBOX_REGION: 'af-south-1' })).toBe('af-south-1');
    expect(() => regionFromEnv({ SANDBOX_REGION: 'mars' })).toThrow(/SANDBOX_REGION/);
  });

  it('reads a port, 0 for any, and rejects what is not a port', () => {
    expect(portFromEnv('SANDBOX_API_PORT', 3000, {})).toBe(3000);
    expect(portFromEnv('SANDBOX_API_PORT', 3000, { SANDBOX_API_PORT: '0' })).toBe(0);
    expect(() => portFromEnv('SANDBOX_API_PORT', 3000, { SANDBOX_API_PORT: '70000' })).toThrow(
      /SANDBOX_API_PORT/,
    );
  });
});
