/**
 * Stops the server when npx, which launched it (`npx hstreamlite`), has gone away.
 *
 * Why: npm runs a package's command through `sh -c`. A SIGTERM sent to npm (what a test harness's
 * teardown does to the process it spawned) reaches the shell, which exits without passing it on,
 * and the server lives on as an orphan holding its port and data directory: a fixture that
 * followed the README leaked one server per test run. Our parent is that shell, so when the parent
 * changes, the launcher is gone and we stop as on SIGTERM.
 *
 * Only under `npx` / `npm exec` (npm sets `npm_command=exec`): a server started any other way,
 * including by an npm script that backgrounds it (`nohup hstreamlite &`), may outlive its parent
 * on purpose. One timer per process, unref'd, so it never keeps the process alive.
 */
const CHECK_EVERY_MS = 1_000;

/** Calls `onGone` once if the process was launched by npx and its parent then exits; returns a function that stops watching. */
export function stopWhenLauncherExits(onGone: () => void, env: NodeJS.ProcessEnv = process.env): () => void {
  if (env['npm_command'] !== 'exec') return () => {};
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, CHECK_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
