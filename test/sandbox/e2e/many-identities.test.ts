import { describe, expect, it } from 'vitest';
import { benchSandbox } from '#scripts/bench-sandbox.js';

// The load case of the benchmark script (scripts/bench-sandbox.ts), run as a test: its own
// file, so its stack boots in its own worker and runs beside the other end-to-end files.
describe('the sandbox under load', () => {
  it('brings 200 identities submitted at once each to exactly one terminal event', async () => {
    const figures = await benchSandbox(200);

    expect(figures).toMatchObject({
      identities: 200,
      accepted: 200,
      terminal_events: 200,
      verified: 200,
      lost: 0,
      duplicated: 0,
    });
  }, 120_000);
});
