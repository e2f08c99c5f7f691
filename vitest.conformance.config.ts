import { defineConfig } from 'vitest/config';

// Conformance tests: our code against independent implementations of the AWS APIs
// (moto_server, the AWS CLI v1, boto3). .ci/run starts those servers and runs this config.
export default defineConfig({
  test: {
    include: ['test/conformance/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
