import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/*
 * Import zones: which room of src/ may import which (docs/ARCHITECTURE.md explains why). Each zone forbids relative
 * imports that climb (`../`, any depth) into a named room, so the rule holds at any folder depth. Flat config does
 * not merge one rule's options across objects, so every file of src/ is matched by exactly one zone below, which
 * lists everything that file may not import.
 */
const EXPORTER_FOLDERS = [
  'bundle',
  'collectors',
  'config',
  'exposition',
  'logs',
  'metrics',
  'parsers',
  'server',
  'sources',
];
const EXPORTER_TOP = ['cli', 'main', 'dry-build', 'config-checks', 'errors', 'version', 'lazy-package'];
const into = (names, up = '(?:\\.\\./)+') => `^${up}(?:${names.join('|')})(?:/|\\.js$|$)`;
const WHY = 'see docs/ARCHITECTURE.md, "What each room may import"';
const zone = (files, ...forbidden) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      { patterns: forbidden.map(([names, what, up]) => ({ regex: into(names, up), message: `${what} (${WHY}).` })) },
    ],
  },
});
const PROGRAMS = [['crm', 'loadgen', 'demo'], 'the exporter does not import the other programs'];
// A relative import() would slip past no-restricted-imports; src/ has none, and keeps it so.
const NO_RELATIVE_IMPORT_EXPRESSION = {
  selector: 'ImportExpression[source.value=/^\\./]',
  message: `no relative dynamic import() in src/: the import zones cannot see it (${WHY}).`,
};
// One way to define a metric: the exporter's families are defineFamily() + registerFamily() (exposition/family.ts),
// rendered from plain state at scrape time; prom-client's metric classes are used by exposition/family.ts alone.
const NO_PROM_CLIENT_METRIC_CLASS = {
  selector:
    'ImportDeclaration[source.value=/(^prom-client|\\/prom-client\\.js)$/] > ImportSpecifier[imported.name=/^(Gauge|Counter|Histogram|Summary)$/]',
  message:
    'define a metric with defineFamily() + registerFamily() (exposition/family.ts), not a prom-client metric class (see docs/ARCHITECTURE.md, "Where new code goes").',
};
const NO_HAND_REGISTERED_METRIC = {
  selector: "CallExpression[callee.property.name='registerMetric']",
  message:
    'register a metric with registerFamily() (exposition/family.ts), which keeps prom-client\'s name and label validation (see docs/ARCHITECTURE.md, "Where new code goes").',
};
const except = (...allowed) => [...EXPORTER_FOLDERS, ...EXPORTER_TOP].filter((n) => !allowed.includes(n));

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['src/**/*.ts'], rules: { 'no-restricted-syntax': ['error', NO_RELATIVE_IMPORT_EXPRESSION] } },
  {
    // Later objects replace a rule's options, so this one repeats the selector above.
    files: ['src/exporter/**/*.ts'],
    ignores: ['src/exporter/exposition/family.ts'], // the one place that subclasses prom-client's Gauge
    rules: {
      'no-restricted-syntax': [
        'error',
        NO_RELATIVE_IMPORT_EXPRESSION,
        NO_PROM_CLIENT_METRIC_CLASS,
        NO_HAND_REGISTERED_METRIC,
      ],
    },
  },
  // The programs: the CRM and the load generator stand alone (they are what the exporter watches); demo/ composes all.
  zone(
    ['src/crm/**/*.ts'],
    [
      ['exporter', 'loadgen', 'demo'],
      'the reference CRM imports neither the exporter, the load generator nor the demo',
    ],
  ),
  zone(
    ['src/loadgen/**/*.ts'],
    [['exporter', 'crm', 'demo'], 'the load generator imports neither the exporter, the CRM nor the demo'],
  ),
  // The exporter's rooms, one-way: cli -> main -> server -> collectors | logs | metrics -> exposition | sources | parsers,
  // all on config.
  zone(['src/exporter/*.ts'], PROGRAMS, [['cli'], 'nothing imports the CLI: it is the entry point', '\\./']),
  zone(['src/exporter/parsers/**/*.ts'], PROGRAMS, [
    except(),
    'parsers are pure: they import nothing internal outside parsers/',
  ]),
  zone(['src/exporter/config/**/*.ts'], PROGRAMS, [
    except('errors', 'version', 'lazy-package'),
    'config/ imports only errors.ts; checks that need parsers or sources live in config-checks.ts',
  ]),
  zone(['src/exporter/sources/**/*.ts'], PROGRAMS, [
    except('config', 'errors', 'version', 'lazy-package'),
    'sources/ (I/O) import only config/ and errors.ts',
  ]),
  zone(['src/exporter/exposition/**/*.ts'], PROGRAMS, [
    except('errors'),
    'exposition/ (how a metric family is defined and rendered) imports only errors.ts',
  ]),
  zone(['src/exporter/logs/**/*.ts'], PROGRAMS, [
    except('config', 'errors', 'version', 'parsers', 'sources', 'exposition'),
    'logs/ (the log pipeline) imports only exposition/, sources/, parsers/, config/ and errors.ts',
  ]),
  zone(['src/exporter/metrics/**/*.ts'], PROGRAMS, [
    except('config', 'errors', 'version', 'exposition'),
    'metrics/ (process, build and web-server metrics) imports only exposition/, config/ and errors.ts',
  ]),
  zone(['src/exporter/collectors/**/*.ts'], PROGRAMS, [
    except('config', 'errors', 'version', 'lazy-package', 'parsers', 'sources', 'exposition'),
    'collectors/ import only exposition/, sources/, parsers/, config/ and errors.ts',
  ]),
  zone(['src/exporter/server/**/*.ts'], PROGRAMS, [
    except(
      'config',
      'errors',
      'version',
      'lazy-package',
      'parsers',
      'sources',
      'metrics',
      'collectors',
      'logs',
      'exposition',
    ),
    'server/ imports nothing above it (main, cli, dry-build, config-checks) nor the bundle',
  ]),
  zone(['src/exporter/bundle/**/*.ts'], PROGRAMS, [
    except('config', 'errors', 'version'),
    'the bundle generator imports only config/ and errors.ts',
  ]),
);
