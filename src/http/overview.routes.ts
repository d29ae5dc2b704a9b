/**
 * What the console's overview shows: the server (version, uptime, data dir,
 * durability), object counts, the sample ring behind the charts, and each
 * stream's recent append rate for its sparkline.
 */
import type { ServerContext } from '../context.js';
import type { SampleRing } from '../core/samples.js';
import type { HttpHandler } from './handler.js';
import type { Router } from './router.js';

/** Seconds of per-stream history in a sparkline. */
const SPARKLINE_SECONDS = 60;

export function addOverviewRoutes(router: Router<HttpHandler>, ctx: ServerContext, samples: SampleRing): void {
  const { config, streams, subscriptions, queries, connectors, stats } = ctx;
  router
    .add('GET', '/v1/overview', () => {
      const all = streams.list();
      const subs = subscriptions.list();
      let consumers = 0;
      for (const view of subs) consumers += subscriptions.find(view.meta.subscriptionId)?.consumerCount ?? 0;
      return {
        status: 200,
        body: {
          version: ctx.self().version.version,
          started_ms: ctx.metrics.startMs,
          uptime_seconds: Math.floor((Date.now() - ctx.metrics.startMs) / 1000),
          data_dir: config.inMemory ? null : config.dataDir,
          // what an acknowledged append survives
          durability: config.inMemory ? 'memory (nothing survives exit)' : config.fsync ? 'fsync (survives power loss)' : 'process crash (not power loss)',
          tls: config.enableTls,
          counts: {
            streams: all.length,
            shards: all.reduce((n, s) => n + s.shardCount, 0),
            subscriptions: subs.length,
            consumers,
            queries: queries.list().length,
            queries_running: queries.runningCount(),
            views: queries.viewNames().length,
            connectors: connectors.list().length,
          },
        },
      };
    })
    .add('GET', '/v1/samples', () => ({ status: 200, body: { interval_ms: 1000, ...samples.columns() } }))
    .add('GET', '/v1/stream-activity', () => ({
      status: 200,
      body: streams.list().map((s) => ({ stream_name: s.name, records_per_second: stats.perSecond(s.name, 'append_in_records', SPARKLINE_SECONDS) })),
    }));
}
