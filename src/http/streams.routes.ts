/**
 * /v1/streams, shaped like upstream's hstreamdb/http-services gateway:
 * list, create, get, delete, and append one record. Bodies are checked here
 * for their JSON types; the core checks what the values mean.
 */
import type { ServerContext } from '../context.js';
import { validateName } from '../core/names.js';
import type { StreamSummary } from '../core/streams.js';
import { encodeStruct, MAX_STRUCT_DEPTH, nestsDeeperThan } from '../struct.js';
import { HttpError } from './errors.js';
import { booleanParam, numberField, shown, stringField } from './fields.js';
import type { HttpHandler } from './handler.js';
import type { Router } from './router.js';

function streamJson(s: StreamSummary) {
  return {
    stream_name: s.name,
    replication_factor: s.replicationFactor,
    backlog_duration: s.backlogDuration,
    shard_count: s.shardCount,
  };
}

export function addStreamRoutes(router: Router<HttpHandler>, ctx: ServerContext): void {
  const { streams, producer } = ctx;
  router
    .add('GET', '/v1/streams', () => ({ status: 200, body: streams.list().map(streamJson) }))
    .add('POST', '/v1/streams', async (req) => {
      const body = await req.json();
      const stream = await streams.create({
        name: validateName('stream', stringField(body, 'stream_name', '')),
        replicationFactor: numberField(body, 'replication_factor', 1),
        backlogDuration: numberField(body, 'backlog_duration', 0),
        shardCount: numberField(body, 'shard_count', 1),
      });
      return { status: 201, body: streamJson(stream) };
    })
    .add('GET', '/v1/streams/:name', (req) => ({ status: 200, body: streamJson(streams.get(validateName('stream', req.params.name))) }))
    .add('DELETE', '/v1/streams/:name', async (req) => {
      await streams.delete(validateName('stream', req.params.name), { ignoreNonExist: false, force: booleanParam(req.query, 'force') });
      return { status: 200, body: {} };
    })
    .add('POST', '/v1/streams/:name', async (req) => {
      const name = validateName('stream', req.params.name);
      const body = await req.json();
      const key = stringField(body, 'key', '');
      const type = stringField(body, 'type', 'HRECORD');
      const data = body.data;
      let record;
      if (type === 'RAW') {
        if (data === undefined) throw new HttpError(400, 'data is missing: a RAW record holds a string (or any JSON, stored as its text)');
        record = { header: { flag: 'RAW' as const, attributes: {}, key }, payload: Buffer.from(typeof data === 'string' ? data : JSON.stringify(data), 'utf8') };
      } else if (type === 'HRECORD') {
        if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new HttpError(400, `data of an HRECORD must be a JSON object, got ${shown(data)}`);
        if (nestsDeeperThan(data, MAX_STRUCT_DEPTH)) throw new HttpError(400, `data nests objects and arrays deeper than ${MAX_STRUCT_DEPTH} levels`);
        record = { header: { flag: 'JSON' as const, attributes: {}, key }, payload: encodeStruct(data as Record<string, unknown>) };
      } else {
        throw new HttpError(400, `type must be "RAW" or "HRECORD", got ${shown(type)}`);
      }
      const [appended] = await producer.appendRecords(name, [record]);
      // one record: the first (and only) id of its batch
      return { status: 200, body: { shard_id: String(appended!.shardId), batch_id: String(appended!.lsn), batch_index: 0 } };
    });
}
