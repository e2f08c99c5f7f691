import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
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

/** The Lambda context in every log line, state cleared between invocations; events never logged. */
export const logsWithContext = () =>
  injectLambdaContext(logger, { clearState: true, logEvent: false });

/** Metrics flushed after each call, as one EMF line. */
export const metricsFlushed = () => logMetrics(metrics);

/**
 * Wraps a function that makes no AWS call as a Lambda handler with logs and metrics as
 * lambdaHandler (observability.ts) wires them, but without Powertools' Tracer: such a function
 * has no SDK call to trace, and Lambda's active tracing records its invocation anyway. What is
 * lost is only the `## index.handler` subsegment and its ColdStart and Service annotations; what
 * is saved is the X-Ray SDK in the bundle (70 KB, with cls-hooked, http, https, dgram and assert
 * loaded at cold start).
 */
export function untracedLambdaHandler<TEvent, TResult>(
  fn: (event: TEvent, context: Context) => Promise<TResult>,
) {
  return middy(fn).use(logsWithContext()).use(metricsFlushed());
}
