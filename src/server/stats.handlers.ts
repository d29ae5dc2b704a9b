/** GetStats and the per-stream time series of append rates. */
import type { ServerContext } from '../context.js';
import { parseStreamMetric, type StreamMetric } from '../core/stats.js';
import { ErrorCode, invalidArgument } from '../errors.js';
import type { RouteTable } from './routes.js';
import { quoted } from './validate.js';

const STREAM_STAT_METRICS: Record<string, StreamMetric> = {
  AppendInBytes: 'appends',
  AppendInRecords: 'append_in_records',
  AppendTotal: 'append_in_requests',
  AppendFailed: 'append_failed_requests',
};

interface StatTypeMessage {
  stat?: string;
  streamStat?: string | number | null;
  [kind: string]: unknown;
}

function metricOf(method: string): StreamMetric {
  const metric = parseStreamMetric(method);
  if (!metric) throw invalidArgument(ErrorCode.InternalError, 'InvalidStatsType', { extra: `unknown stats method "${quoted(method)}"` });
  return metric;
}

function intervalsOf(intervals: { intervals: number[] } | null): number[] {
  const list = intervals?.intervals ?? [];
  if (list.length === 0 || list.some((ms) => !(ms > 0))) {
    throw invalidArgument(ErrorCode.InternalError, 'InvalidStatsInterval', { extra: 'intervals must be positive milliseconds' });
  }
  return list;
}

const CONNECTOR_STATS = new Set(['DeliveredInRecords', 'DeliveredInBytes', 'IsAlive']);

export function statsRoutes(ctx: ServerContext): RouteTable {
  const { stats, streams } = ctx;
  return {
    GetStats: (req: { stats: StatTypeMessage[] }) => {
      if (req.stats.length === 0) throw invalidArgument(ErrorCode.InternalError, 'InvalidStatsType', { extra: 'no stats requested' });
      const statsValues: Array<{ statType: StatTypeMessage; statValues: Record<string, string> }> = [];
      const errors: Array<{ statType: StatTypeMessage; message: string }> = [];
      for (const statType of req.stats) {
        if (statType.stat === 'connStat' && CONNECTOR_STATS.has(String(statType.connStat))) {
          // upstream: delivered records / bytes as reported by the task, IsAlive 1 iff RUNNING
          const which = String(statType.connStat);
          const statValues: Record<string, string> = {};
          for (const c of ctx.connectors.stats()) {
            const value = which === 'DeliveredInRecords' ? c.counters.records : which === 'DeliveredInBytes' ? c.counters.bytes : c.status === 'RUNNING' ? 1 : 0;
            statValues[c.name] = String(value);
          }
          statsValues.push({ statType, statValues });
          continue;
        }
        const metric = statType.stat === 'streamStat' ? STREAM_STAT_METRICS[String(statType.streamStat)] : undefined;
        if (!metric) {
          errors.push({ statType, message: `stats ${statType.stat ?? 'unset'}/${String(statType[statType.stat ?? ''] ?? '')} are not collected by hstreamlite` });
          continue;
        }
        const statValues: Record<string, string> = {};
        for (const s of streams.list()) statValues[s.name] = String(Math.round(stats.total(s.name, metric)));
        statsValues.push({ statType, statValues });
      }
      return { statsValues, errors };
    },

    PerStreamTimeSeriesStats: (req: { method: string; streamName: string; intervals: { intervals: number[] } | null }) => {
      const metric = metricOf(req.method);
      const rates = stats.rates(req.streamName, metric, intervalsOf(req.intervals));
      return { stats: rates ? { vals: rates } : null };
    },

    PerStreamTimeSeriesStatsAll: (req: { method: string; intervals: { intervals: number[] } | null }) => {
      const metric = metricOf(req.method);
      const intervals = intervalsOf(req.intervals);
      const out: Record<string, { vals: number[] }> = {};
      for (const name of stats.streamNames()) {
        const rates = stats.rates(name, metric, intervals);
        if (rates) out[name] = { vals: rates };
      }
      return { stats: out };
    },
  };
}
