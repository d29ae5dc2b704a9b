/**
 * Entry of `npm run bench`: runs the registered scenarios (bench/scenarios.ts)
 * with real server processes on 127.0.0.1, prints the table on stdout and
 * writes bench/results/latest.json and machine.json.
 *
 *   npm run bench                      full run
 *   npm run bench -- --quick           about two minutes
 *   npm run bench -- --only append     scenarios whose id contains "append" (repeatable)
 *   npm run bench -- --list            list the scenarios of the mode and exit
 *
 * Every child process is killed and every temp dir removed at the end, also
 * on failure, timeout, SIGINT or SIGTERM.
 */
import { performance } from 'node:perf_hooks';
import { keepHeapSlack } from '../src/heap-tuning.js';
import { killEverything, Scope, withTimeout, type Mode } from './harness.js';
import { formatTable, machineRecord, writeResults, type Outcome } from './report.js';
import { BaselinePool, SkipScenario, type BenchContext, type Result, type Timing } from './scenario.js';
import { SCENARIOS } from './scenarios.js';

const TIMING: Record<Mode, Timing> = {
  quick: { warmUpMs: 1_000, repMs: 1_500, reps: 3 },
  full: { warmUpMs: 1_500, repMs: 3_000, reps: 3 },
};
/** Whole-run bounds: past these everything is killed. */
const RUN_LIMIT_MS: Record<Mode, number> = { quick: 15 * 60_000, full: 90 * 60_000 };

interface Args {
  mode: Mode;
  only: string[];
  list: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { mode: 'full', only: [], list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') args.mode = 'quick';
    else if (a === '--full') args.mode = 'full';
    else if (a === '--list') args.list = true;
    else if (a === '--only' && argv[i + 1] !== undefined) args.only.push(argv[++i]!);
    else if (a.startsWith('--only=')) args.only.push(a.slice('--only='.length));
    else throw new Error(`unknown argument ${a} (use --quick, --only <text>, --list)`);
  }
  return args;
}

function installSafetyNet(mode: Mode): void {
  process.on('exit', killEverything);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      process.stderr.write(`bench: ${signal}, stopping every child process\n`);
      killEverything();
      process.exit(130);
    });
  }
  setTimeout(() => {
    process.stderr.write(`bench: the whole run took longer than ${RUN_LIMIT_MS[mode] / 60_000} min, stopping\n`);
    killEverything();
    process.exit(1);
  }, RUN_LIMIT_MS[mode]).unref();
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  // The load clients run in this process. Left to V8's default heap sizing it ran a mark-compact
  // every ~70 ms under load (the same pathology heap-tuning.ts describes for the server), which
  // made the client, not the server, set the pace: the same build's inflight-1 append ratio
  // ranged 0.54–0.75 between runs; with this, four runs in a row gave 0.60. Every figure and its
  // baselines share this client, so it changes no comparison's fairness, only its noise.
  keepHeapSlack();
  const selected = SCENARIOS.filter((s) => s.modes.includes(args.mode) && (args.only.length === 0 || args.only.some((o) => s.id.includes(o))));
  if (args.list) {
    for (const s of selected) process.stdout.write(`${s.id}\n    ${s.title}\n`);
    return 0;
  }
  if (selected.length === 0) throw new Error('no scenario matches');
  installSafetyNet(args.mode);
  const started = performance.now();
  const timing = TIMING[args.mode];
  const ctx: BenchContext = {
    mode: args.mode,
    timing,
    baselines: new BaselinePool(),
    progress: (message) => process.stderr.write(`${message}\n`),
  };
  const rows: Result[] = [];
  const outcomes: Outcome[] = [];
  for (const [i, scenario] of selected.entries()) {
    const t0 = performance.now();
    ctx.progress(`[${i + 1}/${selected.length}] ${scenario.id}`);
    const scope = new Scope();
    try {
      rows.push(...(await withTimeout(scenario.id, scenario.timeoutMs[args.mode], scenario.run(ctx, scope))));
    } catch (err) {
      const skipped = err instanceof SkipScenario;
      outcomes.push({ id: scenario.id, status: skipped ? 'skipped' : 'failed', reason: (err as Error).message });
      ctx.progress(`  ${skipped ? 'skipped' : 'FAILED'}: ${(err as Error).message}`);
    } finally {
      await withTimeout(`cleanup of ${scenario.id}`, 60_000, scope.close()).catch((err: unknown) => {
        ctx.progress(`  cleanup: ${(err as Error).message}`);
        killEverything();
      });
    }
    ctx.progress(`  ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const all = [...ctx.baselines.rows(), ...rows];
  const machine = machineRecord(args.mode, timing, (performance.now() - started) / 1000, selected.map((s) => s.id), outcomes);
  writeResults(all, machine);
  process.stdout.write(formatTable(all, machine) + '\n');
  return outcomes.some((o) => o.status === 'failed') ? 1 : 0;
}

main().then(
  (code) => {
    killEverything();
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    killEverything();
    process.exit(1);
  },
);
