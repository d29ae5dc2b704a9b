/**
 * Setup file of both vitest configs: a test file's temp dirs (tempDir()) go
 * when the file ends, kept or not by its own hooks, so a suite run leaves
 * nothing under the OS temp dir. Hooks of a setup file are registered before
 * the test file's, and after-hooks run in reverse order: this one runs after
 * the file's own afterAll has stopped the servers that used the dirs.
 */
import { afterAll } from 'vitest';
import { removeTempDirs } from './server.js';

afterAll(() => removeTempDirs());
