import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';

/** Structured JSON logs; the service name comes from POWERTOOLS_SERVICE_NAME. */
export const logger = new Logger();

/**
 * CloudWatch metrics in embedded metric format; namespace from POWERTOOLS_METRICS_NAMESPACE. Its
 * own warnings (a call that recorded no metric, say, because it failed first) go through the
 * logger, as structured lines that POWERTOOLS_LOG_LEVEL governs, not as bare console text.
 */
export const metrics = new Metrics({ logger });

/**
 * X-Ray tracing (the template turns on active tracing). Outside Lambda (tests, the sandbox) the
 * tracer disables itself: it checks AWS_EXECUTION_ENV, which only Lambda sets.
 */
export const tracer = new Tracer();

/**
 * Wraps a step's domain function as a Lambda handler with the cross-cutting parts wired last:
 * a trace subsegment per invocation, the Lambda context in every log line (state cleared
 * between invocations) and metrics flushed after each call. Events are never logged, nor are
 * responses put in traces: a request may carry a key or a secret's ARN.
 */
export function lambdaHandler<TEvent, TResult>(
  fn: (event: TEvent, context: Context) => Promise<TResult>,
) {
  return middy(fn)
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { clearState: true, logEvent: false }))
    .use(logMetrics(metrics));
}
