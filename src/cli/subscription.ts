/** `hstream subscription …` (alias `sub`): create, list, describe, delete, with upstream's flags and table. */
import { intOption, stringOption, UsageError, type CommandSpec, type GroupSpec } from './args.js';
import type { CliContext } from './context.js';
import { renderTable } from './format.js';

interface SubscriptionMsg {
  subscriptionId: string;
  streamName: string;
  ackTimeoutSeconds: number;
  maxUnackedRecords: number;
}

const INT32_MAX = 2_147_483_647;
const SUB_ID = { metavar: 'SUB_ID', help: 'The ID of the subscription' };

export function renderSubscriptions(subs: SubscriptionMsg[]): string {
  return renderTable(
    ['Subscription ID', 'Stream Name', 'Ack Timeout', 'Max Unacked Records'],
    subs.map((s) => [s.subscriptionId, s.streamName, `${s.ackTimeoutSeconds} seconds`, String(s.maxUnackedRecords)]),
  );
}

const create: CommandSpec<CliContext> = {
  name: 'create',
  summary: 'Create a subscription',
  args: [SUB_ID],
  options: [
    { long: 'stream', type: 'string', metavar: 'STREAM_NAME', help: 'The stream associated with the subscription' },
    { long: 'ack-timeout', type: 'string', metavar: 'INT', help: 'Timeout for acknowledgements in seconds', defaultText: '60' },
    {
      long: 'max-unacked-records',
      aliases: ['max-unacked'],
      type: 'string',
      metavar: 'INT',
      help: 'Maximum number of unacked records allowed per subscription',
      defaultText: '10000',
    },
    { long: 'offset', type: 'string', metavar: '[earliest|latest]', help: 'The offset of the subscription to start from', defaultText: 'latest' },
  ],
  async run({ args, options, ctx, io }) {
    const where = 'hstream subscription create';
    const streamName = stringOption(options, 'stream');
    if (streamName === undefined) throw new UsageError('missing --stream STREAM_NAME', where);
    const offsetText = (stringOption(options, 'offset') ?? 'latest').toLowerCase();
    if (offsetText !== 'earliest' && offsetText !== 'latest') {
      throw new UsageError(`invalid value for --offset: '${offsetText}' (expected earliest or latest)`, where);
    }
    const request = {
      subscriptionId: args[0]!,
      streamName,
      ackTimeoutSeconds: intOption(options, 'ack-timeout', 60, 0, INT32_MAX, where),
      maxUnackedRecords: intOption(options, 'max-unacked-records', 10000, 0, INT32_MAX, where),
      offset: offsetText === 'earliest' ? 'EARLIEST' : 'LATEST',
    };
    const sub = await ctx.connection().unary<SubscriptionMsg>('CreateSubscription', request);
    io.stdout.write(renderSubscriptions([sub]));
  },
};

const list: CommandSpec<CliContext> = {
  name: 'list',
  summary: 'Get all subscriptions',
  args: [],
  options: [],
  async run({ ctx, io }) {
    // NOTE: the repeated field is named in the singular on the wire
    const { subscription } = await ctx.connection().unary<{ subscription: SubscriptionMsg[] }>('ListSubscriptions', {});
    io.stdout.write(renderSubscriptions(subscription));
  },
};

const describe: CommandSpec<CliContext> = {
  name: 'describe',
  summary: 'Get the details of a subscription',
  args: [SUB_ID],
  options: [],
  async run({ args, ctx, io }) {
    const { subscription } = await ctx.connection().unary<{ subscription: SubscriptionMsg | null }>('GetSubscription', { id: args[0]! });
    io.stdout.write(renderSubscriptions(subscription ? [subscription] : []));
  },
};

const remove: CommandSpec<CliContext> = {
  name: 'delete',
  summary: 'Delete a subscription',
  args: [SUB_ID],
  options: [{ long: 'force', short: 'f', type: 'boolean', help: 'Whether to enable force deletion' }],
  async run({ args, options, ctx, io }) {
    await ctx.connection().unary('DeleteSubscription', { subscriptionId: args[0]!, force: options['force'] === true });
    io.stdout.write('Done.\n');
  },
};

export const subscriptionGroup: GroupSpec<CliContext> = {
  name: 'subscription',
  aliases: ['sub'],
  summary: 'Manage Subscriptions in HStreamDB (`sub` is an alias for this command)',
  commands: [list, create, describe, remove],
};
