// Registers toHaveReceivedCommandWith and friends for every test file.
import 'aws-sdk-client-mock-vitest/extend';
