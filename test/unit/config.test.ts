import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, helpText, loadConfig } from '../../src/config.js';

describe('configuration', () => {
  it('defaults to 127.0.0.1:6570 with data in ./data', () => {
    expect(loadConfig([])).toMatchObject({ host: '127.0.0.1', port: 6570, dataDir: './data', fsync: false });
  });

  it('takes env over defaults and flags over env', () => {
    const env = { HSTREAM_PORT: '7000', HSTREAM_DATA_DIR: '/env', HSTREAM_FSYNC: 'true' };
    expect(loadConfig([], env)).toMatchObject({ port: 7000, dataDir: '/env', fsync: true });
    expect(loadConfig(['--port', '7100', '--data-dir=/flag', '--fsync=false'], env)).toMatchObject({ port: 7100, dataDir: '/flag', fsync: false });
  });

  it('accepts a bare boolean flag', () => {
    expect(loadConfig(['--in-memory', '--port', '1']).inMemory).toBe(true);
  });

  it.each([
    [['--bogus', '1'], /unknown option --bogus/],
    [['--port', 'abc'], /whole number/],
    [['--port', '70000'], /port/],
    [['--max-record-size', '0'], /greater than 0/],
    [['--log-level', 'loud'], /log level/],
    [['--port'], /needs a value/],
    [['stray'], /unexpected argument/],
    [['--max-record-size', '9000000'], /smaller than --max-message-size/],
  ])('refuses %j', (argv, message) => {
    expect(() => loadConfig(argv as string[])).toThrow(ConfigError);
    expect(() => loadConfig(argv as string[])).toThrow(message);
  });

  it('documents every option in --help', () => {
    const help = helpText();
    for (const flag of ['--host', '--port', '--data-dir', '--fsync', '--advertised-host', '--advertised-port', '--in-memory', '--log-level']) {
      expect(help).toContain(flag);
    }
    expect(Object.isFrozen(DEFAULTS)).toBe(true);
  });
});
