/** The server's state as Prometheus gauges, rendered with the RPC metrics at GET /metrics. */
import type { ServerContext } from '../context.js';
import type { Gauge } from '../core/metrics.js';

export function gauges(ctx: ServerContext): Gauge[] {
  const streams = ctx.streams.list();
  const per = (metric: 'appends' | 'append_in_records' | 'append_in_requests' | 'append_failed_requests') =>
    streams.map((s) => ({ labels: { stream: s.name }, value: ctx.stats.total(s.name, metric) }));
  const subs = ctx.subscriptions.list();
  const lag: Gauge['samples'] = [];
  const unacked: Gauge['samples'] = [];
  const consumers: Gauge['samples'] = [];
  for (const view of subs) {
    const sub = ctx.subscriptions.find(view.meta.subscriptionId);
    if (!sub) continue;
    unacked.push({ labels: { subscription: sub.id }, value: sub.unackedRecords });
    consumers.push({ labels: { subscription: sub.id }, value: sub.consumerCount });
    let behind = 0;
    for (const { shardId, lsn } of sub.committed()) {
      if (!ctx.store.hasLog(shardId)) continue;
      behind += Math.max(0, ctx.store.tail(shardId) - Math.max(lsn, ctx.store.head(shardId) - 1));
    }
    lag.push({ labels: { subscription: sub.id }, value: behind });
  }
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
  ];
}
