/** The stdout table and the files in bench/results/ (latest.json: the rows; machine.json: where and how). */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT, type Mode } from './harness.js';
import type { Result, Timing } from './scenario.js';

export const RESULTS_DIR = join(PACKAGE_ROOT, 'bench', 'results');

export interface Outcome {
  id: string;
  status: 'skipped' | 'failed';
  reason: string;
}

export interface MachineRecord {
  date: string;
  mode: Mode;
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  grpcJs: string;
  classicLevel: string;
  timing: Timing;
  runtimeSeconds: number;
  scenarios: string[];
  skipped: Outcome[];
  failed: Outcome[];
}

function packageVersion(name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function machineRecord(mode: Mode, timing: Timing, runtimeSeconds: number, scenarios: string[], outcomes: Outcome[]): MachineRecord {
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    mode,
    cores: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    grpcJs: packageVersion('@grpc/grpc-js'),
    classicLevel: packageVersion('classic-level'),
    timing,
    runtimeSeconds: Math.round(runtimeSeconds),
    scenarios,
    skipped: outcomes.filter((o) => o.status === 'skipped'),
    failed: outcomes.filter((o) => o.status === 'failed'),
  };
}

export function writeResults(rows: Result[], machine: MachineRecord): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'latest.json'), JSON.stringify(rows, null, 2) + '\n');
  writeFileSync(join(RESULTS_DIR, 'machine.json'), JSON.stringify(machine, null, 2) + '\n');
}

function num(value: number, unit: string): string {
  if (!Number.isFinite(value)) return '-';
  if (unit === 'rec/s') return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(1);
}

function ms(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '';
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export function formatTable(rows: Result[], machine: MachineRecord): string {
  const header = ['figure', 'value', '[min–max]', 'unit', 'p50/p99 ms', 'baseline', 'ratio', 'baseline figure'];
  const lines = rows.map((r) => [
    r.name,
    num(r.value, r.unit),
    `[${num(r.min, r.unit)}–${num(r.max, r.unit)}]`,
    r.unit,
    r.p50Ms === undefined ? '' : `${ms(r.p50Ms)} / ${ms(r.p99Ms)}`,
    r.baselineValue === null ? '' : num(r.baselineValue, r.unit),
    r.ratio === null ? '' : `${r.ratio.toFixed(2)}×${r.better === 'lower' ? ' (lower=better)' : ''}`,
    r.baseline ?? '(baseline)',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const right = new Set([1, 2, 4, 5, 6]);
  const fmt = (cells: string[]) => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [
    `hstreamlite bench (${machine.mode}) — ${machine.date}, ${machine.cores} × ${machine.cpuModel}, Node ${machine.node}, ` +
      `${machine.timing.reps} reps × ${machine.timing.repMs} ms after ≥ ${machine.timing.warmUpMs} ms warm-up`,
    fmt(header),
    fmt(widths.map((w) => '-'.repeat(w))),
    ...lines.map(fmt),
  ];
  const extras = rows.filter((r) => r.extra && Object.keys(r.extra).length > 0);
  if (extras.length > 0) {
    out.push('', 'extra figures:');
    const show = (v: number | string) => (typeof v === 'number' && !Number.isInteger(v) ? String(Math.round(v * 100) / 100) : String(v));
    for (const r of extras) out.push(`  ${r.name}: ${Object.entries(r.extra!).map(([k, v]) => `${k}=${show(v)}`).join(', ')}`);
  }
  for (const o of [...machine.skipped, ...machine.failed]) out.push(`${o.status.toUpperCase()}: ${o.id}: ${o.reason}`);
  out.push(`total runtime ${machine.runtimeSeconds} s; results in bench/results/latest.json, machine in bench/results/machine.json`);
  return out.join('\n');
}
