/**
 * Runs the whole suite against one snapshot of the built server: dist/,
 * proto/, console/ and package.json are copied to a temp dir (node_modules linked), so a
 * rebuild of dist/ while the suite runs (another build, an editor's watch
 * mode) cannot swap the server under test halfway through a long run.
 */
import { chmodSync, cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../..');

export default function setup(): () => void {
  if (!existsSync(join(REPO, 'dist/src/main.js'))) throw new Error('dist/src/main.js is missing: run `npm run build` first (npm run test:reliability does)');
  const root = mkdtempSync(join(tmpdir(), 'hstreamlite-rel-server-'));
  // readable by every user: one scenario runs the server as nobody
  chmodSync(root, 0o755);
  cpSync(join(REPO, 'dist'), join(root, 'dist'), { recursive: true });
  cpSync(join(REPO, 'proto'), join(root, 'proto'), { recursive: true });
  cpSync(join(REPO, 'console'), join(root, 'console'), { recursive: true });
  cpSync(join(REPO, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
  process.env.RELIABILITY_SERVER_MAIN = join(root, 'dist/src/main.js');
  return () => rmSync(root, { recursive: true, force: true });
}
