/** The server's state as Prometheus gauges, rendered with the RPC metrics at GET /metrics. */
import type { ServerContext } from '../context.js';
import type { Gauge } from '../core/metrics.js';
import { totalLag } from '../core/subscriptions/lag.js';

export function gauges(ctx: ServerContext): Gauge[] {
  const streams = ctx.streams.list();
  const per = (metric: 'appends' | 'append_in_records' | 'append_in_requests' | 'append_failed_requests') =>
    streams.map((s) => ({ labels: { stream: s.name }, value: ctx.stats.total(s.name, metric) }));
  const behindOf = (subscriptionId: string) => totalLag(ctx.store, ctx.subscriptions.find(subscriptionId)?.committed() ?? []);
  const subs = ctx.subscriptions.list();
  const lag: Gauge['samples'] = [];
  const unacked: Gauge['samples'] = [];
  const consumers: Gauge['samples'] = [];
  for (const view of subs) {
    const sub = ctx.subscriptions.find(view.meta.subscriptionId);
    if (!sub) continue;
    unacked.push({ labels: { subscription: sub.id }, value: sub.unackedRecords });
    consumers.push({ labels: { subscription: sub.id }, value: sub.consumerCount });
    lag.push({ labels: { subscription: sub.id }, value: behindOf(sub.id) });
  }
  const connectors = ctx.connectors.stats();
  const perConnector = (value: (c: (typeof connectors)[number]) => number) =>
    connectors.map((c) => ({ labels: { connector: c.name, target: c.target }, value: value(c) }));
  const STATUSES = ['RUNNING', 'STOPPED', 'FAILED'] as const;
  return [
    { name: 'hstream_streams', help: 'Streams that exist.', samples: [{ labels: {}, value: streams.length }] },
    { name: 'hstream_append_bytes_total', help: 'Bytes appended per stream since start.', samples: per('appends') },
    { name: 'hstream_append_records_total', help: 'Records appended per stream since start.', samples: per('append_in_records') },
    { name: 'hstream_append_requests_total', help: 'Append calls per stream since start.', samples: per('append_in_requests') },
    { name: 'hstream_append_failed_total', help: 'Failed append calls per stream since start.', samples: per('append_failed_requests') },
    { name: 'hstream_subscription_lag_batches', help: 'Batches stored after the committed offset, per subscription.', samples: lag },
    { name: 'hstream_subscription_unacked_records', help: 'Delivered records not acknowledged yet.', samples: unacked },
    { name: 'hstream_subscription_consumers', help: 'Consumers attached per subscription.', samples: consumers },
    { name: 'hstream_queries_running', help: 'Continuous queries running.', samples: [{ labels: {}, value: ctx.queries.runningCount() }] },
    { name: 'hstream_connector_records_written_total', help: 'Records a connector wrote since start: a sink to its target, a source to its stream.', samples: perConnector((c) => c.counters.records) },
    { name: 'hstream_connector_bytes_written_total', help: 'Payload bytes a connector wrote since start (sink: to its target, source: to its stream).', samples: perConnector((c) => c.counters.bytes) },
    { name: 'hstream_connector_batches_written_total', help: 'Writes that succeeded since start (sink: to the target, source: appends).', samples: perConnector((c) => c.counters.batches) },
    { name: 'hstream_connector_errors_total', help: 'Failed writes, unmappable records and (sources) connection failures since start.', samples: perConnector((c) => c.counters.errors) },
    { name: 'hstream_connector_skipped_records_total', help: 'Records skipped: unmappable (sink, task.error.skipStrategy SkipAll) or too large (source).', samples: perConnector((c) => c.counters.skipped) },
    { name: 'hstream_connector_rejected_records_total', help: 'Records a file sink set aside in _rejected/ (not a JSON object).', samples: perConnector((c) => c.counters.rejected) },
    { name: 'hstream_connector_lag_batches', help: 'Batches stored after the connector committed offset.', samples: perConnector((c) => behindOf(c.subscriptionId)) },
    {
      name: 'hstream_connector_status',
      help: '1 for the connector status (RUNNING, STOPPED, FAILED), 0 for the others.',
      samples: connectors.flatMap((c) => STATUSES.map((st) => ({ labels: { connector: c.name, status: st }, value: c.status === st ? 1 : 0 }))),
    },
  ];
}
