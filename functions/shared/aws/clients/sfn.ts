import { SFNClient } from '@aws-sdk/client-sfn';

/**
 * One client for the whole execution environment, created at cold start. Region and endpoint
 * come from the standard variables (AWS_REGION, AWS_ENDPOINT_URL...), which is how the local
 * sandbox points it at its emulators.
 */
export const sfnClient = new SFNClient({});
