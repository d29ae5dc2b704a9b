import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFailure, status } from '../helpers/expect.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ advertisedHost: 'stream.example', advertisedPort: 7000, serverId: 3 });
});
afterAll(() => t.destroy());

const self = { id: 3, host: 'stream.example', port: 7000 };

describe('cluster RPCs of a single node', () => {
  it('Echo returns the message unchanged', async () => {
    expect(await t.client.unary('Echo', { msg: 'hello ✓' })).toEqual({ msg: 'hello ✓' });
  });

  it('DescribeCluster lists this node, Running, at its advertised address', async () => {
    const res = await t.client.unary<{ protocolVersion: string; serverNodes: unknown[]; serverNodesStatus: Array<{ state: string; node: unknown }>; clusterUpTime: string }>('DescribeCluster');
    expect(res.protocolVersion).toBe('0.1.0');
    expect(res.serverNodes).toEqual([expect.objectContaining(self)]);
    expect(res.serverNodesStatus).toEqual([{ node: expect.objectContaining(self), state: 'Running' }]);
    expect(Number(res.clusterUpTime)).toBeGreaterThanOrEqual(0);
  });

  it('every lookup answers this node and echoes the requested id', async () => {
    expect(await t.client.unary('LookupShard', { shardId: '123' })).toEqual({ shardId: '123', serverNode: expect.objectContaining(self) });
    expect(await t.client.unary('LookupKey', { partitionKey: 'k' })).toEqual(expect.objectContaining(self));
    expect(await t.client.unary('LookupShardReader', { readerId: 'r1' })).toEqual({ readerId: 'r1', serverNode: expect.objectContaining(self) });
    expect(await t.client.unary('LookupSubscription', { subscriptionId: 's1' })).toEqual({ subscriptionId: 's1', serverNode: expect.objectContaining(self) });
    expect(await t.client.unary('LookupResource', { resType: 'ResStream', resId: 'x' })).toEqual(expect.objectContaining(self));
  });

  it('LookupResource refuses an unknown resource type', async () => {
    await expectFailure(t.client.unary('LookupResource', { resType: 42, resId: 'x' }), status.INVALID_ARGUMENT);
  });

  it('RPCs that are not served answer UNIMPLEMENTED with a message naming them', async () => {
    const f = await expectFailure(t.client.unary('GetSchema', { owner: 'c' }), status.UNIMPLEMENTED, null);
    expect(f.details).toContain('GetSchema');
  });
});
