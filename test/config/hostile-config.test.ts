import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { CONFIG_CHECKS } from '../../src/exporter/config-checks.js';
import { ENV_OVERRIDES, loadConfigFile, parseConfig } from '../../src/exporter/config/load.js';
import { ConfigError } from '../../src/exporter/errors.js';
import { createLineParser } from '../../src/exporter/logs/pipeline.js';
import { hostileString } from '../helpers/hostile.js';

/*
 * Issue 11 B5: the config loader under hostile files. Whatever the file holds (random text, random YAML documents,
 * the shipped example mangled key by key or byte by byte, odd environment overrides), loading either returns a
 * frozen configuration or throws a ConfigError listing problems; no other exception escapes, so a bad file is always
 * "one message that lists every problem with its key path", never a stack trace.
 */
const example = readFileSync(fileURLToPath(new URL('../../crm-exporter.example.yaml', import.meta.url)), 'utf8');
const exampleDoc = yaml.load(example) as Record<string, unknown>;

let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'crm-hostile-config-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Loads `text` as a config file: a Config (deeply frozen) or a ConfigError; anything else fails the property. */
function load(text: string | Buffer, env: NodeJS.ProcessEnv = {}): void {
  const file = join(dir, `c${n++}.yaml`);
  writeFileSync(file, text);
  let config;
  try {
    config = loadConfigFile(file, env, CONFIG_CHECKS);
  } catch (err) {
    expect(err, String((err as Error)?.stack ?? err)).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) expect(typeof p).toBe('string');
    return;
  }
  expect(Object.isFrozen(config)).toBe(true);
  expect(Object.isFrozen(config.logs)).toBe(true);
  // what the loader accepts, start-up can build: every source's line parser
  for (const source of config.logs) createLineParser(source);
}

/** A YAML scalar or structure an operator could mistype, or an attacker craft. */
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    hostileString(20),
    fc.constantFrom(
      '0',
      '0s',
      '1ms',
      '1000h',
      '-1s',
      '1e400',
      '99999',
      ':9464',
      '[::1]:0',
      'redis://:p@h:1/0',
      'postgres://u:p@h/db?x=#',
      'regex',
      'nginx',
      'json',
      '__proto__',
      'constructor',
    ),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(
      fc.oneof(hostileString(8), fc.constantFrom('__proto__', 'constructor', 'name', 'path', 'format', 'url', '<<')),
      tie('v'),
      { maxKeys: 4 },
    ),
  ),
})).v;

/** The example document with some keys (at any depth) replaced, deleted or added. */
const mangledExample: fc.Arbitrary<unknown> = fc
  .array(fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), fc.oneof(value, fc.constant(undefined))), {
    minLength: 1,
    maxLength: 5,
  })
  .map((edits) => {
    const doc = structuredClone(exampleDoc) as unknown;
    for (const [path, v] of edits) {
      let node = doc as Record<string, unknown> | unknown[];
      for (let d = 0; d < path.length; d++) {
        if (node === null || typeof node !== 'object') break;
        const keys = Object.keys(node);
        if (keys.length === 0) break;
        const key = keys[(path[d] as number) % keys.length] as string;
        if (d === path.length - 1) {
          if (v === undefined) delete (node as Record<string, unknown>)[key];
          else (node as Record<string, unknown>)[key] = v;
        } else {
          node = (node as Record<string, unknown>)[key] as Record<string, unknown>;
        }
      }
    }
    return doc;
  });

const RUNS = { numRuns: 400 };

describe('config loader under hostile files (issue 11 B5)', () => {
  it('random text: a config or a ConfigError, nothing else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          hostileString(200),
          fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
        ),
        (text) => load(text),
      ),
      RUNS,
    );
  });

  it('random YAML documents, including YAML features (anchors, merge keys, tags): a config or a ConfigError', () => {
    const features = fc.constantFrom(
      'a: &x {b: 1}\nc: *x\n',
      'logs: &l [{name: a, path: /x, format: json}]\nredis: *l\n',
      '<<: {listen: ":1"}\n',
      'listen: !!binary aGVsbG8=\n',
      'listen: !!js/function "function(){}"\n',
      '? [a, b]\n: c\n',
      'logs:\n  - !!map {name: a}\n',
      '%YAML 1.2\n---\nlisten: ":1"\n...\n---\nlisten: ":2"\n',
      'listen: "\\u0000"\n',
      `logs:\n${'  - name: a\n    path: /x\n    format: json\n'.repeat(3)}`,
    );
    fc.assert(
      fc.property(
        fc.oneof(
          features,
          value.map((v) => yaml.dump(v, { skipInvalid: true })),
        ),
        (text) => load(text),
      ),
      RUNS,
    );
  });

  it('the shipped example mangled key by key: a config or a ConfigError', () => {
    fc.assert(
      fc.property(mangledExample, (doc) => load(yaml.dump(doc, { skipInvalid: true }))),
      { numRuns: 800 },
    );
  });

  it('the shipped example mangled byte by byte: a config or a ConfigError', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), hostileString(3), fc.nat({ max: 8 })), { minLength: 1, maxLength: 6 }),
        (edits) => {
          let text = example;
          for (const [at, insert, cut] of edits) {
            const i = at % (text.length + 1);
            text = text.slice(0, i) + insert + text.slice(i + cut);
          }
          load(text);
        },
      ),
      RUNS,
    );
  });

  it('log sources with random fields, formats, patterns and routes: a config whose parsers build, or a ConfigError', () => {
    const key = fc.constantFrom('a', 'b', 'status', 'x"y', 'é');
    const common = {
      name: fc.constantFrom('crm', 'x'),
      path: fc.constant('/var/log/x.log'),
      routes: fc.array(fc.oneof(fc.constantFrom('/a/:id', '/static/*', '/'), hostileString(10)), { maxLength: 3 }),
    };
    const json = fc.record({
      ...common,
      format: fc.constant('json'),
      fields: fc.dictionary(
        fc.constantFrom('method', 'path', 'route', 'status', 'duration', 'bytes', 'db_time', 'cache', 'lock'),
        fc.oneof(key, fc.constant(null)),
        { maxKeys: 4 },
      ),
    });
    const nginx = fc.record({
      ...common,
      format: fc.constant('nginx'),
      log_format: fc.oneof(
        fc.constantFrom('combined', '$status $request', '$request_uri $status $request_time'),
        hostileString(20),
      ),
    });
    const regex = fc.record({
      ...common,
      format: fc.constant('regex'),
      pattern: fc.oneof(fc.constantFrom('(?<status>\\d+) (?<path>\\S+)', '(?<status>\\d+)', '('), hostileString(20)),
    });
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(fc.oneof(json, nginx, regex), { minLength: 1, maxLength: 2 }), (logs) => {
        try {
          parseConfig({ logs }, {}, CONFIG_CHECKS);
          accepted++;
        } catch {
          // counted below; load() checks what is thrown
        }
        load(yaml.dump({ logs }, { skipInvalid: true }));
      }),
      { numRuns: 800 },
    );
    expect(accepted, 'the generator must produce accepted configs too').toBeGreaterThan(20); // ~10% are accepted
  });

  it('environment overrides with hostile values over good and bad documents: a config or a ConfigError', () => {
    const env = fc.dictionary(fc.constantFrom(...Object.keys(ENV_OVERRIDES)), hostileString(30), { maxKeys: 5 });
    fc.assert(
      fc.property(fc.oneof(fc.constant(exampleDoc as unknown), mangledExample, value), env, (doc, overrides) => {
        try {
          const config = parseConfig(doc, overrides, CONFIG_CHECKS);
          expect(Object.isFrozen(config)).toBe(true);
        } catch (err) {
          expect(err, String((err as Error)?.stack ?? err)).toBeInstanceOf(ConfigError);
        }
      }),
      RUNS,
    );
  });
});
