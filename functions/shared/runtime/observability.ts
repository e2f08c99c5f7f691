import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, logsWithContext, metrics, metricsFlushed } from './logs-and-metrics.js';

export { logger, metrics };

/**
 * X-Ray tracing (the template turns on active tracing). Outside Lambda (tests, the sandbox) the
 * tracer disables itself: it checks AWS_EXECUTION_ENV, which only Lambda sets.
 */
export const tracer = new Tracer();

/**
 * Wraps a step's domain function as a Lambda handler with the cross-cutting parts wired last:
 * a trace subsegment per invocation, the Lambda context in every log line (state cleared
 * between invocations) and metrics flushed after each call. Events are never logged, nor are
 * responses put in traces: a request may carry a key or a secret's ARN. A function that makes
 * no AWS call uses untracedLambdaHandler (logs-and-metrics.ts) instead, without the X-Ray SDK.
 */
export function lambdaHandler<TEvent, TResult>(
  fn: (event: TEvent, context: Context) => Promise<TResult>,
) {
  return middy(fn)
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(logsWithContext())
    .use(metricsFlushed());
}
