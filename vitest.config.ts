import { defineConfig } from 'vitest/config';

// `npm test` runs everything that needs only Node. Conformance tests drive independent
// implementations (moto_server, the AWS CLI, boto3) and run from .ci/run instead.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/conformance/**', 'node_modules/**'],
    setupFiles: ['test/setup.ts'],
    // A bound on a hung test, not a speed requirement: tests run on virtual or fake time, and a
    // loaded two-core machine can take seconds of wall time for a run of 72 virtual hours.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_DEV: 'false',
      // Quiet by default: `npm test` prints the runner's report only. Tests that read logs
      // (the secrecy tests) raise the level themselves; metrics are counts and would only add
      // "no metrics to publish" warnings to every handler call.
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_METRICS_NAMESPACE: 'SesIdentityVerifier',
      POWERTOOLS_SERVICE_NAME: 'ses-identity-verifier',
    },
  },
});
