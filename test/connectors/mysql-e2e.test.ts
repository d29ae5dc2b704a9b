/**
 * The mysql sink against a real MariaDB, driven the way the Python client
 * does it: SQL statements through ExecuteQuery.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromStructMessage, type StructMessage } from '../../src/struct.js';
import { expectFailure, status } from '../helpers/expect.js';
import { mariadbUnavailable, startMariaDb, type TestMariaDb } from '../helpers/mariadb.js';
import { batch } from '../helpers/records.js';
import { eventually, startTestServer, type TestServer } from '../helpers/server.js';

const DB_HOOK_TIMEOUT = 120_000;

describe.skipIf(mariadbUnavailable !== undefined)(`mysql sink end to end${mariadbUnavailable ? ` (skipped: ${mariadbUnavailable})` : ''}`, () => {
  let db: TestMariaDb;
  let s: TestServer;
  const sql = async (text: string) =>
    ((await s.client.unary<{ result_set: StructMessage[] }>('ExecuteQuery', { stmt_text: text })).result_set ?? []).map(fromStructMessage);

  beforeAll(async () => {
    db = await startMariaDb();
    await db.query('CREATE TABLE readings (device varchar(32) PRIMARY KEY, temp double, hum double)');
    s = await startTestServer();
  }, DB_HOOK_TIMEOUT);

  afterAll(async () => {
    await s?.destroy();
    await db?.stop();
  }, DB_HOOK_TIMEOUT);

  it('creates, shows, writes upserts, pauses and drops a connector through ExecuteQuery', { timeout: 120_000 }, async () => {
    await sql('CREATE STREAM readings_s;');
    const created = await sql(
      `CREATE SINK CONNECTOR my1 TO mysql WITH ("stream" = 'readings_s', "host" = '${db.host}', "port" = ${db.port}, "user" = '${db.user}', "password" = '${db.password}', "database" = '${db.database}', "table" = 'readings');`,
    );
    expect(created[0]).toMatchObject({ name: 'my1', status: 'RUNNING' });
    const { shards } = await s.client.unary<{ shards: Array<{ shardId: string }> }>('ListShards', { streamName: 'readings_s' });
    const rows = [
      { device: 'd1', temp: 20.5, hum: 40 },
      { device: 'd2', temp: 21, hum: 41 },
      { device: 'd1', temp: 22.5, hum: 42 },
    ];
    await s.client.unary('Append', { streamName: 'readings_s', shardId: shards[0]!.shardId, records: batch(rows.map((r) => ({ flag: 'JSON' as const, payload: JSON.stringify(r) }))) });
    const expected = JSON.stringify([
      { device: 'd1', temp: 22.5, hum: 42 },
      { device: 'd2', temp: 21, hum: 41 },
    ]);
    await eventually(async () => JSON.stringify(await db.query('SELECT device, temp, hum FROM readings ORDER BY device')) === expected, 30_000);

    const shown = await sql('SHOW CONNECTORS;');
    expect(shown).toEqual([expect.objectContaining({ name: 'my1', type: 'SINK', target: 'mysql', status: 'RUNNING' })]);
    await sql('PAUSE CONNECTOR my1;');
    expect((await sql('SHOW CONNECTORS;'))[0]).toMatchObject({ status: 'STOPPED' });
    await sql('RESUME CONNECTOR my1;');
    await sql('DROP CONNECTOR my1;');
    expect(await sql('SHOW CONNECTORS;')).toEqual([]);
    // dropping again (or a name never created) succeeds, as upstream
    await sql('DROP CONNECTOR my1 IF EXISTS;');
  });

  it('refuses a wrong password without echoing it', async () => {
    const f = await expectFailure(
      sql(`CREATE SINK CONNECTOR my2 TO mysql WITH ("stream" = 'readings_s', "host" = '${db.host}', "port" = ${db.port}, "user" = '${db.user}', "password" = 'Wrong-Pass-123', "database" = '${db.database}', "table" = 'readings');`),
      status.FAILED_PRECONDITION,
      604,
    );
    expect(f.details).not.toContain('Wrong-Pass-123');
    expect(f.body?.extra).toMatchObject({ crtType: 'CONNECTION' });
  });
});
