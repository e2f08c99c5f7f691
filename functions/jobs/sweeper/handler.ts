import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { clock } from '#shared/runtime/clock.js';
import { integerEnv, requireEnv } from '#shared/runtime/config.js';
import { lambdaHandler, metrics } from '#shared/runtime/observability.js';
import { SesBudget, withSesBudget } from '#shared/ses/budget.js';
import { sweep } from './sweep.js';

const registryTable = requireEnv('REGISTRY_TABLE_NAME');
// The sweeper's own share of SES's rate: ListEmailIdentities is called by nobody else.
const budget = new SesBudget(integerEnv('SES_REQUESTS_PER_SECOND', 1));

/**
 * The sweeper (EventBridge Scheduler, every minute; one at a time): wakes the runs whose
 * identity SES now sees differently.
 */
export const handler = lambdaHandler(async () => {
  const report = await withSesBudget(budget, () => sweep(registryTable, clock.now()));
  metrics.addMetric('SweepSesPages', MetricUnit.Count, report.ses_pages);
  metrics.addMetric('RunsWoken', MetricUnit.Count, report.woken);
  return report;
});
