/** `hstream node …`: list, status and check-running, from DescribeCluster. */
import { CliError, intOption, type CommandSpec, type GroupSpec } from './args.js';
import type { CliContext } from './context.js';
import { renderTable } from './format.js';

interface ServerNodeMsg {
  id: number;
  host: string;
  port: number;
  version: { version: string; commit: string } | null;
}

interface ServerNodeStatusMsg {
  node: ServerNodeMsg | null;
  state: string | number;
}

interface DescribeClusterMsg {
  serverNodes: ServerNodeMsg[];
  serverNodesStatus: ServerNodeStatusMsg[];
}

const NODE_STATES = ['Starting', 'Running', 'Unavailable', 'Dead'];

function stateName(state: string | number): string {
  const name = typeof state === 'number' ? NODE_STATES[state] : state;
  return name !== undefined && NODE_STATES.includes(name) ? name : 'Unknown';
}

const byId = (a: ServerNodeMsg, b: ServerNodeMsg) => a.id - b.id || a.host.localeCompare(b.host) || a.port - b.port;

export function renderNodes(nodes: ServerNodeMsg[]): string {
  return renderTable(['Server Id', 'Address'], [...nodes].sort(byId).map((n) => [String(n.id), `${n.host}:${n.port}`]));
}

export function renderNodeStatuses(statuses: ServerNodeStatusMsg[]): string {
  const rows = statuses
    .filter((s): s is ServerNodeStatusMsg & { node: ServerNodeMsg } => s.node !== null)
    .sort((a, b) => byId(a.node, b.node))
    .map((s) => [
      String(s.node.id),
      stateName(s.state),
      `${s.node.host}:${s.node.port}`,
      s.node.version?.version ?? 'unknown',
      s.node.version?.commit ?? 'unknown',
    ]);
  return renderTable(['Server Id', 'State', 'Address', 'Version', 'Commit'], rows);
}

const list: CommandSpec<CliContext> = {
  name: 'list',
  summary: 'List all running nodes in the cluster',
  args: [],
  options: [],
  async run({ ctx, io }) {
    const cluster = await ctx.connection().unary<DescribeClusterMsg>('DescribeCluster', {});
    io.stdout.write(renderNodes(cluster.serverNodes));
  },
};

const status: CommandSpec<CliContext> = {
  name: 'status',
  summary: 'Show the status of nodes specified, if not specified show the status of all nodes',
  args: [],
  options: [{ long: 'id', type: 'string', metavar: 'INT', help: 'Specify the id of the node' }],
  async run({ options, ctx, io }) {
    const id = options['id'] === undefined ? undefined : intOption(options, 'id', 0, 0, 4_294_967_295, 'hstream node status');
    const cluster = await ctx.connection().unary<DescribeClusterMsg>('DescribeCluster', {});
    const target = cluster.serverNodesStatus.filter((s) => id === undefined || s.node?.id === id);
    if (target.length === 0) throw new CliError('Node(s) not found in the cluster');
    io.stdout.write(renderNodeStatuses(target));
  },
};

const checkRunning: CommandSpec<CliContext> = {
  name: 'check-running',
  summary: 'Check if all nodes in the the cluster are running, and the number of nodes is at least as specified',
  args: [],
  options: [{ long: 'minimum-running', short: 'n', type: 'string', metavar: 'INT', help: 'Specify minimum number of the nodes' }],
  async run({ options, ctx, io }) {
    const minimum = intOption(options, 'minimum-running', 0, 0, 4_294_967_295, 'hstream node check-running');
    const cluster = await ctx.connection().unary<DescribeClusterMsg>('DescribeCluster', {});
    const statuses = cluster.serverNodesStatus;
    if (statuses.length < minimum) throw new CliError('No enough nodes in the cluster');
    const notRunning = statuses.filter((s) => stateName(s.state) !== 'Running');
    if (notRunning.length > 0) {
      throw new CliError(`Some Nodes are not running: [${notRunning.map((s) => s.node?.id).filter((x) => x !== undefined).join(',')}]`);
    }
    io.stdout.write('All nodes in the cluster are running.\n');
  },
};

export const nodeGroup: GroupSpec<CliContext> = {
  name: 'node',
  summary: 'Manage HStream Server Cluster',
  commands: [list, status, checkRunning],
};
