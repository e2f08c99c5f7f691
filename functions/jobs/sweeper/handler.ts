import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { probeOptionsFromEnv } from '#shared/dns/probe-config.js';
import { Route53RecordSets } from '#shared/dns/route53-record-sets.js';
import { clock } from '#shared/runtime/clock.js';
import { integerEnv, requireEnv } from '#shared/runtime/config.js';
import { lambdaHandler, metrics } from '#shared/runtime/observability.js';
import { SesBudget, withSesBudget } from '#shared/ses/budget.js';
import { sweep } from './sweep.js';
import type { DriftWatchConfig } from './watch-fleet.js';

const registryTable = requireEnv('REGISTRY_TABLE_NAME');
// The sweeper's own share of SES's rate: ListEmailIdentities is called by nobody else.
const budget = new SesBudget(integerEnv('SES_REQUESTS_PER_SECOND', 1));
// A repair waits less for INSYNC than a run's publish: the sweep must end within its minute,
// and a change still pending is seen by the next sweep's probe.
const recordSets = new Route53RecordSets({ changeWaitMs: 20_000 });
const drift: DriftWatchConfig = {
  registryTable,
  intervalMinutes: integerEnv('DRIFT_PROBE_INTERVAL_MINUTES', 60),
  probe: probeOptionsFromEnv(),
  eventBusName: requireEnv('EVENT_BUS_NAME'),
  eventSource: requireEnv('EVENT_SOURCE'),
  stateMachineArn: requireEnv('STATE_MACHINE_ARN'),
  repair: (records, zone) => recordSets.publish(records, zone),
};

/**
 * The sweeper (EventBridge Scheduler, every minute; one at a time): wakes the runs whose
 * identity SES now sees differently, and watches verified identities for drift.
 */
export const handler = lambdaHandler(async () => {
  const report = await withSesBudget(budget, () => sweep(registryTable, clock.now(), drift));
  metrics.addMetric('SweepSesPages', MetricUnit.Count, report.ses_pages);
  metrics.addMetric('RunsWoken', MetricUnit.Count, report.woken);
  if (report.drift !== undefined) {
    metrics.addMetric('DriftProbes', MetricUnit.Count, report.drift.probed);
    metrics.addMetric('IdentitiesDegraded', MetricUnit.Count, report.drift.degraded);
    metrics.addMetric('IdentitiesRecovered', MetricUnit.Count, report.drift.recovered);
    metrics.addMetric('VerificationsRestarted', MetricUnit.Count, report.drift.restarted);
  }
  return report;
});
