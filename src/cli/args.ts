/**
 * Command-line grammar of the `hstream` CLI: global connection flags, command
 * groups and commands, parsed with node:util `parseArgs`, and help text laid
 * out like optparse-applicative's (upstream's parser library).
 *
 * Knows nothing about gRPC; commands receive parsed values and an I/O bundle.
 */
import { parseArgs } from 'node:util';

/** A mistake in how the CLI was called: printed with a pointer to `--help`, exit status 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly helpCommand = 'hstream',
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure while running a command (server error, unreadable file…): one line on stderr, exit status 1. */
export class CliError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
  }
}

export interface OptionSpec {
  long: string;
  short?: string;
  /** further long names accepted for the same option */
  aliases?: string[];
  type: 'string' | 'boolean';
  metavar?: string;
  help: string;
  /** shown as `(default: …)` in help */
  defaultText?: string;
}

export interface ArgSpec {
  metavar: string;
  help: string;
}

export type OptionValues = Record<string, string | boolean | undefined>;

export interface CliIO {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export interface Invocation<Ctx> {
  args: string[];
  options: OptionValues;
  ctx: Ctx;
  io: CliIO;
}

export interface CommandSpec<Ctx> {
  name: string;
  summary: string;
  args: ArgSpec[];
  options: OptionSpec[];
  run(inv: Invocation<Ctx>): Promise<void>;
}

export interface GroupSpec<Ctx> {
  name: string;
  aliases?: string[];
  summary: string;
  commands: Array<CommandSpec<Ctx>>;
  /** set for a command without subcommands (`hstream sql`): every positional after the group name is its argument */
  leaf?: CommandSpec<Ctx>;
}

const HELP_OPTION: OptionSpec = { long: 'help', short: 'h', type: 'boolean', help: 'Show this help text' };
const VERSION_OPTION: OptionSpec = { long: 'version', short: 'v', type: 'boolean', help: 'Get client version' };

export const GLOBAL_OPTIONS: OptionSpec[] = [
  { long: 'host', type: 'string', metavar: 'SERVER-HOST', help: 'Server host value', defaultText: '"127.0.0.1"' },
  { long: 'port', type: 'string', metavar: 'INT', help: 'Server port value', defaultText: '6570' },
  {
    long: 'service-url',
    type: 'string',
    metavar: 'URL',
    help: 'The endpoint to connect to, hstream://host:port (hstreams:// for TLS); overrides --host and --port',
  },
  { long: 'tls-ca', type: 'string', metavar: 'STRING', help: 'path name of the file that contains list of trusted TLS Certificate Authorities' },
  { long: 'tls-key', type: 'string', metavar: 'STRING', help: 'path name of the client TLS private key file' },
  { long: 'tls-cert', type: 'string', metavar: 'STRING', help: 'path name of the client TLS public key certificate file' },
  { long: 'token', type: 'string', metavar: 'STRING', help: 'token send to grpc' },
  {
    long: 'retry-timeout',
    type: 'string',
    metavar: 'INT',
    help: 'timeout to retry connecting to a server in seconds (0: fail at once)',
    defaultText: '60',
  },
];

/** Every option of every command plus the global ones, checked for consistent types. */
function optionTable<Ctx>(groups: Array<GroupSpec<Ctx>>) {
  const byName = new Map<string, OptionSpec>();
  const add = (spec: OptionSpec) => {
    for (const name of [spec.long, ...(spec.aliases ?? [])]) {
      const seen = byName.get(name);
      if (seen && (seen.type !== spec.type || seen.short !== spec.short)) {
        throw new TypeError(`option --${name} is declared twice with different types or short names`);
      }
      byName.set(name, name === spec.long ? spec : { ...spec, short: undefined });
    }
  };
  [HELP_OPTION, VERSION_OPTION, ...GLOBAL_OPTIONS].forEach(add);
  for (const g of groups) for (const c of [...g.commands, ...(g.leaf ? [g.leaf] : [])]) c.options.forEach(add);
  const shorts = new Map<string, string>();
  for (const [name, spec] of byName) {
    if (!spec.short) continue;
    const other = shorts.get(spec.short);
    if (other && other !== name) throw new TypeError(`short option -${spec.short} is used by --${other} and --${name}`);
    shorts.set(spec.short, name);
  }
  return byName;
}

export type Parsed<Ctx> =
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  | { kind: 'run'; group: GroupSpec<Ctx>; command: CommandSpec<Ctx>; args: string[]; options: OptionValues; global: OptionValues };

function firstLine(message: string): string {
  return message.split('\n')[0]!;
}

/**
 * Parses argv (without node and script). Global flags may appear anywhere
 * (upstream wants them before the command); command flags are accepted only
 * by the commands that declare them.
 */
export function parseCommandLine<Ctx>(argv: string[], groups: Array<GroupSpec<Ctx>>): Parsed<Ctx> {
  const table = optionTable(groups);
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, spec] of table) options[name] = spec.short ? { type: spec.type, short: spec.short } : { type: spec.type };

  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    const e = err as Error & { code?: string };
    const unknown = /Unknown option '([^']*)'/.exec(e.message);
    throw new UsageError(e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown ? `unknown option '${unknown[1]!}'` : firstLine(e.message));
  }
  const values = parsed.values;
  const [groupName] = parsed.positionals;
  const help = values['help'] === true;

  if (groupName === undefined) {
    if (values['version'] === true) return { kind: 'version' };
    if (help) return { kind: 'help', text: topHelp(groups) };
    throw new UsageError('missing COMMAND');
  }
  const group = groups.find((g) => g.name === groupName || g.aliases?.includes(groupName));
  if (!group) throw new UsageError(`unknown command '${groupName}'`);
  const leaf = group.leaf;
  const [commandName, ...rest] = parsed.positionals.slice(1);
  const args = leaf ? parsed.positionals.slice(1) : rest;
  if (!leaf && commandName === undefined) {
    if (help) return { kind: 'help', text: groupHelp(group) };
    throw new UsageError(`missing COMMAND for 'hstream ${group.name}'`, `hstream ${group.name}`);
  }
  const command = leaf ?? group.commands.find((c) => c.name === commandName);
  if (!command) throw new UsageError(`unknown command '${commandName!}' for 'hstream ${group.name}'`, `hstream ${group.name}`);
  const where = leaf ? `hstream ${group.name}` : `hstream ${group.name} ${command.name}`;
  if (help) return { kind: 'help', text: commandHelp(group, command) };

  // merge aliases into the long name, and refuse flags this command does not take
  const own = new Map<string, OptionSpec>();
  for (const spec of command.options) for (const name of [spec.long, ...(spec.aliases ?? [])]) own.set(name, spec);
  const globalNames = new Set(GLOBAL_OPTIONS.map((o) => o.long));
  const commandValues: OptionValues = {};
  const globalValues: OptionValues = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || name === 'help') continue;
    if (globalNames.has(name)) globalValues[name] = value;
    else if (own.has(name)) commandValues[own.get(name)!.long] = value;
    else throw new UsageError(`'${where}' does not take the option --${name}`, where);
  }
  if (args.length < command.args.length) {
    throw new UsageError(`missing ${command.args.slice(args.length).map((a) => a.metavar).join(' ')}`, where);
  }
  if (args.length > command.args.length) throw new UsageError(`unexpected argument '${args[command.args.length]}'`, where);
  return { kind: 'run', group, command, args, options: commandValues, global: globalValues };
}

// ---------------------------------------------------------------------------
// Value helpers

/** An integer option within [min, max]; `fallback` when the option is absent. */
export function intOption(values: OptionValues, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER, where = 'hstream'): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`invalid value for --${name}: '${String(raw)}' (expected an integer from ${min} to ${max})`, where);
  }
  return Number(raw);
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

// ---------------------------------------------------------------------------
// Help text, laid out like optparse-applicative

const HELP_COLUMN = 27;

function optionLabel(o: OptionSpec): string {
  const names = [o.short ? `-${o.short}` : undefined, `--${o.long}`].filter(Boolean).join(',');
  return o.metavar ? `${names} ${o.metavar}` : names;
}

function optionUsage(o: OptionSpec): string {
  const names = o.short ? `-${o.short}|--${o.long}` : `--${o.long}`;
  return `[${o.metavar ? `${names} ${o.metavar}` : names}]`;
}

function entries(rows: Array<[string, string]>): string {
  return rows
    .map(([label, text]) => {
      const left = `  ${label}`;
      return left.length < HELP_COLUMN - 1 ? left.padEnd(HELP_COLUMN) + text : `${left}\n${' '.repeat(HELP_COLUMN)}${text}`;
    })
    .join('\n');
}

function describe(o: OptionSpec): string {
  const aliases = o.aliases?.length ? ` (also --${o.aliases.join(', --')})` : '';
  return o.help + aliases + (o.defaultText ? ` (default: ${o.defaultText})` : '');
}

export function topHelp<Ctx>(groups: Array<GroupSpec<Ctx>>): string {
  const usage = ['Usage: hstream', ...GLOBAL_OPTIONS.map(optionUsage), 'COMMAND'].join(' ');
  const commands: Array<[string, string]> = [];
  for (const g of groups) {
    commands.push([g.name, g.summary]);
    for (const a of g.aliases ?? []) commands.push([a, `Alias for the command \`${g.name}\``]);
  }
  return [
    '======= HStream CLI =======',
    '',
    usage,
    '',
    'Available options:',
    entries([...GLOBAL_OPTIONS, HELP_OPTION, VERSION_OPTION].map((o): [string, string] => [optionLabel(o), describe(o)])),
    '',
    'Available commands:',
    entries(commands),
    '',
  ].join('\n');
}

export function groupHelp<Ctx>(group: GroupSpec<Ctx>): string {
  return [
    `Usage: hstream ${group.name} COMMAND`,
    `  ${group.summary}`,
    '',
    'Available options:',
    entries([[optionLabel(HELP_OPTION), HELP_OPTION.help]]),
    '',
    'Available commands:',
    entries(group.commands.map((c) => [c.name, c.summary])),
    '',
  ].join('\n');
}

export function commandHelp<Ctx>(group: GroupSpec<Ctx>, command: CommandSpec<Ctx>): string {
  const usage = [group.leaf ? `Usage: hstream ${group.name}` : `Usage: hstream ${group.name} ${command.name}`, ...command.args.map((a) => a.metavar), ...command.options.map(optionUsage)].join(' ');
  return [
    usage,
    `  ${command.summary}`,
    '',
    'Available options:',
    entries([
      ...command.args.map((a): [string, string] => [a.metavar, a.help]),
      ...command.options.map((o): [string, string] => [optionLabel(o), describe(o)]),
      [optionLabel(HELP_OPTION), HELP_OPTION.help],
    ]),
    '',
    'Global options (hstream --help) may be given too.',
    '',
  ].join('\n');
}
