/**
 * The thread that makes the lake sinks' files (parquet-encoder.ts): packed
 * records in, file contents, schema and rejected lines out, the bytes moved
 * back without a copy. Reading the records as JSON and encoding them is
 * nearly all of a sink's work per row; here it runs beside the server's
 * thread, which meanwhile reads the next file's records.
 */
import { parentPort } from 'node:worker_threads';
import { encodeLakeFile } from './lake-encode.js';
import type { EncodeReply, EncodeRequest } from './parquet-encoder.js';

const port = parentPort;
if (!port) throw new Error('parquet-encoder-worker runs as a worker thread');

port.on('message', (req: EncodeRequest) => {
  let reply: EncodeReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const file = encodeLakeFile(req.file);
    reply = { id: req.id, file };
    if (file.data instanceof Uint8Array) transfer = [file.data.buffer as ArrayBuffer];
  } catch (err) {
    reply = { id: req.id, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply, transfer);
});
