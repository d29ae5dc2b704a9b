/**
 * Debian's chromium driven by playwright-core, for the console's browser
 * tests and the README screenshot. Absent chromium: `chromiumPath()` is
 * undefined and the caller skips with that reason.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];

export function chromiumPath(): string | undefined {
  return CANDIDATES.find((p): p is string => !!p && existsSync(p));
}

export const NO_CHROMIUM = 'chromium is not installed (apt-get install chromium, or set CHROMIUM_PATH)';

export function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(NO_CHROMIUM);
  // CI runs as root, where chromium's sandbox cannot start
  return chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}
