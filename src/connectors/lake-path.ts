/**
 * Where a file sink may write: only under the server's connector path root
 * (--connector-path-root). A path is resolved the way the kernel will follow
 * it (`..`, symlinks of every existing ancestor) before it is compared, so a
 * symlink inside the root that points out of it is refused too. The
 * directory is created and written to once, so an unwritable one is refused
 * at create instead of failing the first write.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, realpath, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { CheckFailure } from './driver.js';

/** The real directory for `path` (relative paths are taken from the root), created and checked writable. */
export async function lakeDirectory(root: string, path: string): Promise<string> {
  const rootReal = await realRoot(root);
  const wanted = resolve(rootReal, path);
  const outside = () =>
    new CheckFailure('CONFIG', 'invalid config', `"path" ${path} is outside ${rootReal}, the directory connectors may write under (--connector-path-root)`);
  if (!within(rootReal, await realPathOf(wanted))) throw outside();
  try {
    await mkdir(wanted, { recursive: true });
  } catch (err) {
    throw unwritable(path, err);
  }
  // Again after creating: a symlink may have appeared on the way.
  const real = await realpath(wanted);
  if (!within(rootReal, real)) throw outside();
  const probe = join(real, `.probe-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (err) {
    throw unwritable(path, err);
  }
  return real;
}

async function realRoot(root: string): Promise<string> {
  try {
    await mkdir(root, { recursive: true });
    return await realpath(root);
  } catch (err) {
    throw new CheckFailure('CONFIG', 'invalid config', `the connector path root ${root} cannot be used: ${(err as Error).message}`);
  }
}

/** The path with its longest existing ancestor resolved to what it really names. */
async function realPathOf(path: string): Promise<string> {
  const missing: string[] = [];
  let at = path;
  for (;;) {
    try {
      return join(await realpath(at), ...missing.reverse());
    } catch {
      const parent = dirname(at);
      if (parent === at) return path;
      missing.push(basename(at));
      at = parent;
    }
  }
}

function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function unwritable(path: string, err: unknown): CheckFailure {
  const code = (err as NodeJS.ErrnoException).code;
  return new CheckFailure('CONFIG', 'invalid config', `"path" ${path} cannot be written${code ? ` (${code})` : ''}: ${(err as Error).message}`);
}
