/**
 * The thread that encodes Parquet for the lake sinks (parquet-encoder.ts):
 * columns in, file bytes out, moved back without a copy. Encoding is most
 * of a sink's work per row; here it runs beside the server's thread, which
 * meanwhile reads and parses the next file's records.
 */
import { parentPort } from 'node:worker_threads';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { EncodeReply, EncodeRequest } from './parquet-encoder.js';

const port = parentPort;
if (!port) throw new Error('parquet-encoder-worker runs as a worker thread');

port.on('message', (req: EncodeRequest) => {
  let reply: EncodeReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const bytes = parquetWriteBuffer({ columnData: req.columns, createdBy: req.createdBy });
    reply = { id: req.id, bytes };
    transfer = [bytes];
  } catch (err) {
    reply = { id: req.id, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply, transfer);
});
