/** Debian's chromium for the console's browser tests (shared with the screenshot script in bench/). */
export * from '../../bench/chromium.js';
