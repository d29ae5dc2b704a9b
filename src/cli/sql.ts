/**
 * `hstream sql`: one statement with `-e/--execute`, or an interactive shell.
 * The spec is light; the statement runner (sql-run.ts) loads the SQL parser
 * and record codecs only when a statement is about to run.
 */
import { CliError, intOption, stringOption, type CommandSpec, type GroupSpec } from './args.js';
import type { CliContext } from './context.js';

const sql: CommandSpec<CliContext> = {
  name: 'sql',
  summary: 'Start HStream SQL Shell, or run one statement with -e',
  args: [],
  options: [
    { long: 'execute', short: 'e', type: 'string', metavar: 'SQL', help: 'Execute the statement(s) and exit, e.g. -e "SHOW STREAMS;"' },
    {
      long: 'total',
      type: 'string',
      metavar: 'INT',
      help: 'Stop a push query (EMIT CHANGES) after this many result rows (0: run until Ctrl-C)',
      defaultText: '0',
    },
  ],
  async run({ options, ctx, io }) {
    const where = 'hstream sql';
    const total = intOption(options, 'total', 0, 0, Number.MAX_SAFE_INTEGER, where);
    const text = stringOption(options, 'execute');
    const { SqlRunner, runShell, splitStatements } = await import('./sql-run.js');
    const runner = new SqlRunner(ctx.connection(), io, { total });
    if (text === undefined) {
      await runShell(runner, io);
      return;
    }
    const { complete, rest } = splitStatements(text);
    if (rest.trim() !== '') complete.push(rest);
    if (complete.length === 0) throw new CliError('no statement given to --execute');
    // Ctrl-C ends a push query cleanly (its temporary objects are deleted); otherwise it exits at once
    const stopOnSigint = () => {
      if (!runner.interrupt()) process.exit(130);
    };
    process.on('SIGINT', stopOnSigint);
    try {
      for (const stmt of complete) await runner.run(stmt);
    } finally {
      process.off('SIGINT', stopOnSigint);
    }
  },
};

export const sqlGroup: GroupSpec<CliContext> = {
  name: 'sql',
  summary: 'Start HStream SQL Shell',
  commands: [],
  leaf: sql,
};
