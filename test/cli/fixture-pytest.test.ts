/**
 * The README's pytest fixture, run as written by Debian's python3 + pytest against the built
 * server: it spawns the server, reads the listening line, connects, and SIGTERMs it at teardown.
 * Skipped (with the reason) where python3 or pytest is missing; `.ci/run` installs them.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/server.js';

const REPO = join(import.meta.dirname, '..', '..');
const PYTHON = ['/usr/bin/python3', 'python3'].find((py) => {
  try {
    execFileSync(py, ['-m', 'pytest', '--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});

/** The README's fenced python blocks, by the file name in their first line. */
function readmePythonFiles(): Map<string, string> {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const files = new Map<string, string>();
  for (const m of readme.matchAll(/```python\n# (\S+\.py)\n([\s\S]*?)```/g)) files.set(m[1]!, m[2]!);
  return files;
}

const dir = tempDir('hstreamlite-pytest-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the README pytest fixture', () => {
  it('the README has both files of the example', () => {
    expect([...readmePythonFiles().keys()].sort()).toEqual(['conftest.py', 'test_hstream.py']);
  });

  it.skipIf(!PYTHON)('runs green with pytest against the built server, which exits at teardown', { timeout: 120_000 }, async () => {
    for (const [name, text] of readmePythonFiles()) writeFileSync(join(dir, name), text);
    const { stdout } = await promisify(execFile)(PYTHON!, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider'], {
      cwd: dir,
      timeout: 100_000,
      env: { ...process.env, HSTREAMLITE: `${process.execPath} ${join(REPO, 'dist', 'src', 'main.js')}` },
    });
    expect(stdout).toMatch(/1 passed/);
  });
});
