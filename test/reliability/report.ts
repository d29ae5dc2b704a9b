/**
 * Figures of a scenario: printed as one readable block (vitest shows stdout)
 * and written to test-results/reliability/<scenario>.json for CI and release
 * notes. Findings are product bugs the suite observed; they are listed even
 * when they do not fail the run (known bugs waiting for a fix).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const OUT_DIR = resolve(import.meta.dirname, '../../test-results/reliability');

export interface Finding {
  /** short stable id, e.g. "hostile/internal-on-undecodable-request" */
  id: string;
  summary: string;
  evidence: string;
  /** whether the suite fails because of it */
  fatal: boolean;
}

export function writeFigures(scenario: string, figures: Record<string, unknown>, findings: Finding[] = []): void {
  const lines = [`\n===== reliability: ${scenario} =====`];
  for (const [key, value] of Object.entries(figures)) {
    lines.push(`  ${key}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  }
  for (const f of findings) {
    lines.push(`  FINDING ${f.fatal ? '(fails the run)' : '(known, reported)'} ${f.id}: ${f.summary}`);
    lines.push(...f.evidence.split('\n').slice(0, 12).map((l) => `      ${l}`));
  }
  console.log(lines.join('\n'));
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(resolve(OUT_DIR, `${scenario}.json`), JSON.stringify({ scenario, at: new Date().toISOString(), figures, findings }, null, 2) + '\n');
}

export function mib(kib: number | undefined): string {
  return kib === undefined ? 'n/a' : `${(kib / 1024).toFixed(1)} MiB`;
}
