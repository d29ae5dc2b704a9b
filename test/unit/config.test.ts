import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/server.js';
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

describe('configuration file', () => {
  const dir = tempDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('is overridden by env, which is overridden by flags', () => {
    const path = file('a.yaml', 'port: 7001\ndata-dir: /from-file\nfsync: true\nlogLevel: warn\n');
    expect(loadConfig(['--config', path])).toMatchObject({ port: 7001, dataDir: '/from-file', fsync: true, logLevel: 'warn' });
    expect(loadConfig([`--config=${path}`], { HSTREAM_PORT: '7002' })).toMatchObject({ port: 7002, dataDir: '/from-file' });
    expect(loadConfig(['--config', path, '--port', '7003'], { HSTREAM_PORT: '7002' }).port).toBe(7003);
    expect(loadConfig([], { HSTREAM_CONFIG: path }).port).toBe(7001);
  });

  it.each([
    ['unknown keys', 'colour: blue\n', /unknown option "colour"/],
    ['wrong types', 'port: "6570"\n', /whole number/],
    ['unsafe values', 'port: 99999\n', /port/],
    ['a non-mapping', '- a\n- b\n', /mapping/],
    ['broken YAML', 'port: [1\n', /not valid YAML/],
  ])('refuses %s', (_what, text, message) => {
    expect(() => loadConfig(['--config', file(`${_what}.yaml`, text)])).toThrow(message);
  });

  it('refuses a missing file and TLS without a key', () => {
    expect(() => loadConfig(['--config', join(dir, 'missing.yaml')])).toThrow(/cannot read config file/);
    expect(() => loadConfig(['--enable-tls', '--tls-cert-path', '/c.pem'])).toThrow(/--tls-key-path/);
  });
});
