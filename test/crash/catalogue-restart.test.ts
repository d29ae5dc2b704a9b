/**
 * The stream catalogue a server starts with is what its metadata says, whichever way the last run
 * ended: a clean stop (the next start reads the metadata snapshot, storage/meta-snapshot.ts), a
 * kill -9 while serving, or a kill -9 while the clean stop was writing that snapshot.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { HStreamClient } from '../../src/client.js';
import { spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';

const dataDir = tempDir('hstreamlite-catalogue-');
let live: ServerProcess | undefined;
afterAll(() => {
  live?.child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const STREAMS = 400;
const INFLIGHT = 16;

interface Catalogue {
  streams: Array<Record<string, unknown>>;
  shards: Record<string, unknown>;
  subscriptions: Array<Record<string, unknown>>;
}

/** Everything a client can see of the catalogue. */
async function catalogue(client: HStreamClient): Promise<Catalogue> {
  const { streams } = await client.unary<{ streams: Array<Record<string, unknown> & { streamName: string }> }>('ListStreams');
  const shards: Record<string, unknown> = {};
  await inParallel(streams.length, (i) => {
    const name = streams[i]!.streamName;
    return client.unary<{ shards: unknown[] }>('ListShards', { streamName: name }).then((r) => void (shards[name] = r.shards));
  });
  const { subscription } = await client.unary<{ subscription: Array<Record<string, unknown>> }>('ListSubscriptions');
  return { streams, shards, subscriptions: subscription };
}

async function inParallel(count: number, call: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: INFLIGHT }, async () => {
    while (next < count) await call(next++);
  }));
}

async function start(): Promise<{ server: ServerProcess; client: HStreamClient }> {
  const server = await spawnServer(['--data-dir', dataDir]);
  live = server;
  return { server, client: new HStreamClient(server.address) };
}

async function kill9(server: ServerProcess, client: HStreamClient): Promise<void> {
  client.close();
  server.child.kill('SIGKILL');
  await server.exited;
}

async function stop(server: ServerProcess, client: HStreamClient): Promise<void> {
  client.close();
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
}

/** Creates and deletes streams (names `${tag}_i`), so that every start has changes to get right. */
async function churn(client: HStreamClient, tag: string, count: number): Promise<void> {
  await inParallel(count, (i) =>
    client.unary('CreateStream', { streamName: `${tag}_${i}`, replicationFactor: 1, shardCount: 1 + (i % 3), backlogDuration: i % 2 === 0 ? 0 : 3600 }),
  );
  await inParallel(Math.floor(count / 4), (i) => client.unary('DeleteStream', { streamName: `${tag}_${i * 4}` }));
}

describe('the catalogue after a restart', () => {
  it('equals the metadata after a clean stop, a kill -9, and a kill -9 during the clean stop', async () => {
    let { server, client } = await start();
    await churn(client, 'first', STREAMS);
    // a force-deleted stream with a subscription is kept archived: it is not listed, its subscription is
    await client.unary('CreateStream', { streamName: 'archived', replicationFactor: 1, shardCount: 2 });
    await client.unary('CreateSubscription', { subscriptionId: 'on_archived', streamName: 'archived', ackTimeoutSeconds: 60, maxUnackedRecords: 100 });
    await client.unary('CreateSubscription', { subscriptionId: 'on_first', streamName: 'first_1', ackTimeoutSeconds: 60, maxUnackedRecords: 100 });
    await client.unary('DeleteStream', { streamName: 'archived', force: true });
    let expected = await catalogue(client);
    expect(expected.streams).toHaveLength(STREAMS - STREAMS / 4);

    // clean stop: the next start reads the snapshot
    await stop(server, client);
    ({ server, client } = await start());
    expect(await catalogue(client)).toEqual(expected);

    // changes, then kill -9: no clean-shutdown record, so the metadata itself is read
    await churn(client, 'second', 40);
    await client.unary('DeleteSubscription', { subscriptionId: 'on_archived' });
    expected = await catalogue(client);
    await kill9(server, client);
    ({ server, client } = await start());
    expect(await catalogue(client)).toEqual(expected);

    // kill -9 at points during the clean stop (while it writes the snapshot, or around it)
    for (const [round, afterMs] of [0, 1, 3, 6, 10, 20, 40].entries()) {
      await churn(client, `third${round}`, 8);
      expected = await catalogue(client);
      client.close();
      server.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, afterMs));
      server.child.kill('SIGKILL');
      await server.exited;
      ({ server, client } = await start());
      expect(await catalogue(client), `kill -9 ${afterMs} ms into the stop`).toEqual(expected);
    }

    // and the snapshot of a clean stop after all that
    await stop(server, client);
    ({ server, client } = await start());
    expect(await catalogue(client)).toEqual(expected);
    await stop(server, client);
  }, 180_000);
});
