import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Service, type IContainer, type IPodSpec } from 'kubernetes-models/v1';
import {
  PodMonitor,
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import {
  renderGrafanaDashboardConfigMaps,
  renderPrometheusRule,
  GRAFANA_DASHBOARD_LABEL,
} from '../../src/exporter/bundle/kubernetes.js';
import { loadThresholdsFile } from '../../src/exporter/bundle/thresholds.js';
import { main } from '../../src/exporter/cli.js';
import { CONFIG_CHECKS } from '../../src/exporter/config-checks.js';
import { ENV_OVERRIDES, loadConfigFile } from '../../src/exporter/config/load.js';
import type { Config } from '../../src/exporter/config/schema.js';
import { requireBinary } from '../helpers/prometheus.js';

/*
 * deploy/kubernetes/ as a cluster would get it, without a cluster: each kustomization built by `kubectl kustomize`,
 * every object validated against its Kubernetes or Prometheus Operator schema (kubernetes-models), and the
 * cross-object facts no schema knows checked here: Service and monitor selectors find the pods, ports line up, each
 * exporter's config (from its ConfigMap, with its container's environment) passes check-config and names files
 * its container can read or write, images are pinned, every container is locked down, the PrometheusRule holds
 * exactly the plain rule files' groups and the dashboard ConfigMaps exactly dashboards/*.json.
 */

const ROOT = 'deploy/kubernetes';
const BUILDS = ['base', 'overlays/sidecar', 'overlays/daemonset'] as const;
const OVERLAYS = ['overlays/sidecar', 'overlays/daemonset'] as const;
const SOURCE = 'alerting/thresholds.yaml';
const thresholds = loadThresholdsFile(SOURCE);
const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

/** Containers allowed to run as root, with the reason in their manifest: reading /var/log/pods (root:root 0640). */
const ROOT_CONTAINERS = ['DaemonSet/crm-exporter-node/crm-exporter'];

/** What the Secrets the manifests reference hold, for check-config: URLs with a password, which must stay masked. */
const SECRET_SAMPLES: Record<string, string> = {
  'crm-exporter/postgres-url': 'postgres://crm_exporter:pg-S3cret-sample@postgres.db:5432/postgres',
  'crm-exporter/redis-url': 'redis://:redis-S3cret-sample@redis.db:6379',
};

/** Variables that carry a database URL, and with it a password: only ever from a Secret. */
const DATABASE_URL_VARIABLES = ['CRM_EXPORTER_POSTGRES_URL', 'CRM_EXPORTER_REDIS_URL', 'DATABASE_URL', 'REDIS_URL'];

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    strategy?: { type?: string };
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: IPodSpec };
  };
}

interface ServiceObject extends K8sObject {
  spec: {
    selector: Record<string, string>;
    ports: Array<{ name?: string; port: number; targetPort?: string | number }>;
  };
}

interface Relabeling {
  targetLabel?: string;
  replacement?: string;
}

interface Monitor extends K8sObject {
  spec: {
    selector: { matchLabels: Record<string, string> };
    namespaceSelector?: unknown;
    endpoints?: Array<{ port?: string; relabelings?: Relabeling[] }>;
    podMetricsEndpoints?: Array<{ port?: string; relabelings?: Relabeling[] }>;
  };
}

function kustomize(dir: string): K8sObject[] {
  const kubectl = requireBinary('kubectl', 'kubectl (see scripts/test-deps.sh)');
  const r = spawnSync(kubectl, ['kustomize', join(ROOT, dir)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed (${r.status}): ${r.stderr}`);
  return yaml.loadAll(r.stdout).filter((d): d is K8sObject => d !== null && typeof d === 'object');
}

const built = new Map<string, K8sObject[]>(BUILDS.map((dir) => [dir, kustomize(dir)]));
const objectsOf = (dir: string): K8sObject[] => built.get(dir) ?? [];
const id = (o: K8sObject): string => `${o.kind}/${o.metadata.name}`;
const kindOf = <T extends K8sObject>(objects: K8sObject[], ...kinds: string[]): T[] =>
  objects.filter((o) => kinds.includes(o.kind)) as T[];
const workloadsOf = (objects: K8sObject[]): Workload[] =>
  kindOf<Workload>(objects, 'Deployment', 'DaemonSet', 'StatefulSet');
const selects = (selector: Record<string, string>, labels: Record<string, string> | undefined): boolean =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** Every container of every workload, init containers included, named Kind/workload/container. */
function containersOf(objects: K8sObject[]): Array<{ name: string; workload: Workload; container: IContainer }> {
  return workloadsOf(objects).flatMap((w) =>
    [...(w.spec.template.spec.initContainers ?? []), ...w.spec.template.spec.containers].map((c) => ({
      name: `${id(w)}/${c.name}`,
      workload: w,
      container: c,
    })),
  );
}

/** The containers that run the exporter: `crm-exporter --config FILE`. */
function exportersOf(objects: K8sObject[]) {
  return containersOf(objects).filter(({ container }) => container.command?.[0] === 'crm-exporter');
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/DaemonSet': DaemonSet,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
};

describe.each(BUILDS.map((dir) => [dir] as const))('deploy/kubernetes/%s', (dir) => {
  const objects = objectsOf(dir);

  it('builds with `kubectl kustomize`, object names unique per kind', () => {
    expect(objects.length).toBeGreaterThan(0);
    expect(new Set(objects.map(id)).size).toBe(objects.length);
  });

  it('every object validates against its schema (kubernetes-models, @kubernetes-models/prometheus-operator)', () => {
    for (const object of objects) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      expect(Model, `${id(object)}: ${object.apiVersion} has no schema here`).toBeDefined();
      expect(
        () => new (Model as new (data: K8sObject) => { validate(): void })(object).validate(),
        id(object),
      ).not.toThrow();
    }
  });

  it('every image is pinned: a version tag (never latest) or a digest; ours is tagged with package.json version', () => {
    const containers = containersOf(objects);
    expect(containers.length).toBeGreaterThan(0);
    let ours = 0;
    for (const { name, container } of containers) {
      const image = container.image ?? '';
      const match = /^(?<repo>[^@\s]+?)(?::(?<tag>[\w][\w.-]{0,127}))?(?:@(?<digest>sha256:[0-9a-f]{64}))?$/.exec(
        image,
      );
      expect(match, `${name}: ${image}`).not.toBeNull();
      const { repo, tag, digest } = match?.groups ?? {};
      expect(tag ?? digest, `${name}: ${image} has neither tag nor digest`).toBeDefined();
      expect(tag, `${name}: ${image}`).not.toBe('latest');
      if (repo?.split('/').pop() === 'crm-exporter') {
        expect(tag, name).toBe(VERSION);
        ours++;
      }
    }
    expect(ours, 'containers running the crm-exporter image').toBeGreaterThan(0);
  });

  it('every container: non-root (one listed exception), no privilege escalation, read-only root, no capability, seccomp', () => {
    for (const { name, workload, container } of containersOf(objects)) {
      const pod = workload.spec.template.spec;
      const sc = container.securityContext;
      expect(sc, `${name}: no securityContext`).toBeDefined();
      expect(sc?.allowPrivilegeEscalation, name).toBe(false);
      expect(sc?.readOnlyRootFilesystem, name).toBe(true);
      expect(sc?.privileged ?? false, name).toBe(false);
      expect(sc?.capabilities?.drop, name).toEqual(['ALL']);
      expect(sc?.capabilities?.add ?? [], name).toEqual([]);
      expect((sc?.seccompProfile ?? pod.securityContext?.seccompProfile)?.type, name).toBe('RuntimeDefault');
      if (ROOT_CONTAINERS.includes(name)) {
        expect(sc?.runAsUser, name).toBe(0);
        // Root only to read what root owns, and only read-only: every host path it mounts, except its state.
        const hostVolumes = new Set((pod.volumes ?? []).filter((v) => v.hostPath).map((v) => v.name));
        const writable = (container.volumeMounts ?? [])
          .filter((m) => hostVolumes.has(m.name) && !m.readOnly)
          .map((m) => m.mountPath);
        expect(writable, name).toEqual(['/var/lib/crm-exporter']);
      } else {
        expect(sc?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot, name).toBe(true);
        // The image's USER is `node` by name: the kubelet can check runAsNonRoot only against a number.
        expect(sc?.runAsUser ?? pod.securityContext?.runAsUser, name).toBe(1000);
      }
      expect(pod.automountServiceAccountToken, `${id(workload)}: no API access needed`).toBe(false);
    }
  });

  it('every container has CPU and memory requests and limits; every one with a port has HTTP probes on it', () => {
    for (const { name, container } of containersOf(objects)) {
      for (const key of ['requests', 'limits'] as const) {
        expect(container.resources?.[key]?.cpu, `${name}: ${key}.cpu`).toBeDefined();
        expect(container.resources?.[key]?.memory, `${name}: ${key}.memory`).toBeDefined();
      }
      const ports = (container.ports ?? []).map((p) => p.name);
      if (ports.length === 0) continue;
      for (const probe of [container.readinessProbe, container.livenessProbe]) {
        expect(probe?.httpGet, `${name}: probe`).toBeDefined();
        expect(ports, `${name}: probe port`).toContain(probe?.httpGet?.port);
      }
    }
    for (const { name, container } of exportersOf(objects)) {
      expect(container.readinessProbe?.httpGet?.path, name).toBe('/healthz');
      expect(container.livenessProbe?.httpGet?.path, name).toBe('/healthz');
    }
  });

  it('no secret inline: passwords come from Secret references, and those Secrets are documented', () => {
    const docs = readFileSync('docs/kubernetes.md', 'utf8');
    for (const { name, container } of containersOf(objects)) {
      for (const env of container.env ?? []) {
        if (env.value !== undefined) {
          expect(env.value, `${name}: ${env.name}`).not.toMatch(/:\/\/[^/@\s]*:[^/@\s]*@/);
          expect(env.name, `${name}: a literal value for a secret-looking variable`).not.toMatch(
            /PASSWORD|TOKEN|SECRET/,
          );
          expect(DATABASE_URL_VARIABLES, `${name}: ${env.name} must come from a Secret`).not.toContain(env.name);
        }
        const ref = env.valueFrom?.secretKeyRef;
        if (ref)
          expect(docs, `${name}: Secret ${ref.name} key ${ref.key} in docs/kubernetes.md`).toMatch(
            new RegExp(`create secret generic ${ref.name} [^\\n]*--from-literal=${ref.key}=`),
          );
      }
    }
    expect(kindOf(objects, 'Secret')).toEqual([]);
  });

  it('each Service finds pods, and each of its ports names a port of every pod it selects', () => {
    const workloads = workloadsOf(objects);
    for (const service of kindOf<ServiceObject>(objects, 'Service')) {
      const pods = workloads.filter((w) => selects(service.spec.selector, w.spec.template.metadata.labels));
      expect(pods.length, `${id(service)} selects no pod`).toBeGreaterThan(0);
      for (const pod of pods) {
        const containerPorts = pod.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
        for (const port of service.spec.ports) {
          const target = port.targetPort ?? port.port;
          const found = containerPorts.some((p) =>
            typeof target === 'number' ? p.containerPort === target : p.name === target,
          );
          expect(found, `${id(service)} port ${port.name}: no container port ${String(target)} in ${id(pod)}`).toBe(
            true,
          );
        }
      }
    }
  });

  it('each workload selector matches its own pod template labels', () => {
    for (const w of workloadsOf(objects))
      expect(selects(w.spec.selector.matchLabels, w.spec.template.metadata.labels), id(w)).toBe(true);
  });
});

describe.each(OVERLAYS.map((dir) => [dir] as const))('deploy/kubernetes/%s: monitoring and roles', (dir) => {
  const objects = objectsOf(dir);
  const exporters = exportersOf(objects);
  const services = kindOf<ServiceObject>(objects, 'Service');
  const monitors = kindOf<Monitor>(objects, 'ServiceMonitor', 'PodMonitor');

  /** The exporter containers a monitor scrapes, by the port it names. */
  function scrapedBy(monitor: Monitor): string[] {
    if (monitor.kind === 'PodMonitor') {
      return (monitor.spec.podMetricsEndpoints ?? []).flatMap((endpoint) =>
        exporters
          .filter(
            ({ workload, container }) =>
              selects(monitor.spec.selector.matchLabels, workload.spec.template.metadata.labels) &&
              (container.ports ?? []).some((p) => p.name === endpoint.port),
          )
          .map((e) => e.name),
      );
    }
    return (monitor.spec.endpoints ?? []).flatMap((endpoint) =>
      services
        .filter((s) => selects(monitor.spec.selector.matchLabels, s.metadata.labels))
        .flatMap((s) => {
          const port = s.spec.ports.find((p) => p.name === endpoint.port);
          if (!port) return [];
          return exporters
            .filter(
              ({ workload, container }) =>
                selects(s.spec.selector, workload.spec.template.metadata.labels) &&
                (container.ports ?? []).some((p) => p.name === port.targetPort || p.containerPort === port.targetPort),
            )
            .map((e) => e.name);
        }),
    );
  }

  it('every exporter is scraped by exactly one ServiceMonitor or PodMonitor, in its own namespace', () => {
    expect(exporters.length).toBeGreaterThan(1);
    const scraped = monitors.flatMap(scrapedBy);
    for (const monitor of monitors) {
      expect(scrapedBy(monitor).length, `${id(monitor)} scrapes nothing`).toBeGreaterThan(0);
      expect(monitor.spec.namespaceSelector, id(monitor)).toBeUndefined();
    }
    expect(scraped.sort()).toEqual(exporters.map((e) => e.name).sort());
    expect(new Set(objects.map((o) => o.metadata.namespace))).toEqual(new Set(['crm']));
  });

  it('every target gets the job the generated rules select (selectors.job) and a role label', () => {
    const jobRegex = new RegExp(`^(?:${thresholds.selectors.job})$`);
    for (const monitor of monitors) {
      for (const endpoint of [...(monitor.spec.endpoints ?? []), ...(monitor.spec.podMetricsEndpoints ?? [])]) {
        const set = (label: string) => endpoint.relabelings?.find((r) => r.targetLabel === label)?.replacement;
        expect(set('job'), id(monitor)).toMatch(jobRegex);
        expect(['logs', 'collectors'], id(monitor)).toContain(set('role'));
      }
    }
  });

  describe.each(exporters.map((e) => [e.name, e] as const))('%s', (name, { workload, container }) => {
    const pod = workload.spec.template.spec;
    const configPath = container.command?.[container.command.indexOf('--config') + 1] ?? '';
    const mount = (container.volumeMounts ?? []).find((m) => m.mountPath === posix.dirname(configPath));
    const volume = (pod.volumes ?? []).find((v) => v.name === mount?.name);
    const configMap = kindOf<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap').find(
      (c) => c.metadata.name === volume?.configMap?.name,
    );
    const text = configMap?.data[posix.basename(configPath)];
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      env[e.name] = ref
        ? (SECRET_SAMPLES[`${ref.name}/${ref.key}`] ?? `no sample for ${ref.name}/${ref.key}`)
        : (e.value ?? '');
    }

    function resolved(): Config {
      const tmp = mkdtempSync(join(tmpdir(), 'crm-k8s-config-'));
      try {
        writeFileSync(join(tmp, 'crm-exporter.yaml'), text ?? '');
        return loadConfigFile(join(tmp, 'crm-exporter.yaml'), env, CONFIG_CHECKS);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }

    it('reads its config from a ConfigMap of this build, mounted read-only', () => {
      expect(configPath).toMatch(/^\/.+\.yaml$/);
      expect(mount?.readOnly).toBe(true);
      expect(text, `${configPath} in ConfigMap ${volume?.configMap?.name ?? '?'}`).toBeDefined();
    });

    it('its config, with its container environment, passes `crm-exporter check-config` with secrets masked', async () => {
      for (const variable of Object.keys(env)) expect(Object.keys(ENV_OVERRIDES), variable).toContain(variable);
      const tmp = mkdtempSync(join(tmpdir(), 'crm-k8s-config-'));
      try {
        const file = join(tmp, 'crm-exporter.yaml');
        writeFileSync(file, text ?? '');
        let out = '';
        let err = '';
        const code = await main(['check-config', file], { out: (t) => (out += t), err: (t) => (err += t) }, env);
        expect(err).toBe('');
        expect(code).toBe(0);
        expect(out).toContain('configuration is valid');
        expect(out).not.toContain('S3cret');
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });

    it('listens on the container port Prometheus scrapes; writes its positions file on a writable volume', () => {
      const config = resolved();
      const port = Number(config.listen.split(':').pop());
      expect((container.ports ?? []).map((p) => p.containerPort)).toContain(port);
      const under = (path: string) => (container.volumeMounts ?? []).find((m) => path.startsWith(`${m.mountPath}/`));
      const positions = under(config.positions_file);
      expect(positions, `${config.positions_file}: the root filesystem is read-only`).toBeDefined();
      expect(positions?.readOnly ?? false, config.positions_file).toBe(false);
    });

    it('reads only logs that a volume brings it, from a file another container of the pod writes there', () => {
      const config = resolved();
      for (const source of config.logs) {
        const logMount = (container.volumeMounts ?? []).find((m) => source.path.startsWith(`${m.mountPath}/`));
        expect(logMount, source.path).toBeDefined();
        expect(logMount?.readOnly).toBe(true);
        const logVolume = (pod.volumes ?? []).find((v) => v.name === logMount?.name);
        if (logVolume?.hostPath) continue;
        expect(logVolume?.emptyDir, `${source.path}: an emptyDir shared in the pod`).toBeDefined();
        const writer = pod.containers.find(
          (c) => c !== container && (c.command ?? []).includes(`--access-log=${source.path}`),
        );
        expect(writer, `no container writes --access-log=${source.path}`).toBeDefined();
        expect(writer?.volumeMounts?.find((m) => m.name === logMount?.name)?.readOnly ?? false).toBe(false);
      }
    });

    it('probes a CRM it can reach: a port of its own pod on localhost, or a Service of this build', () => {
      const config = resolved();
      if (!config.probe) return;
      const url = new URL(config.probe.url);
      const port = Number(url.port || 80);
      if (['127.0.0.1', 'localhost'].includes(url.hostname)) {
        expect(
          pod.containers.filter((c) => c !== container).flatMap((c) => (c.ports ?? []).map((p) => p.containerPort)),
        ).toContain(port);
      } else {
        const service = services.find((s) => s.metadata.name === url.hostname);
        expect(service, url.hostname).toBeDefined();
        expect(service?.spec.ports.map((p) => p.port)).toContain(port);
      }
    });
  });

  it('roles: logs exporters read logs and no database; one collectors replica samples PostgreSQL and Redis', () => {
    const roles = exporters.map(({ name, workload, container }) => {
      const configMapName = (workload.spec.template.spec.volumes ?? []).find(
        (v) => v.name === container.volumeMounts?.find((m) => m.mountPath === '/etc/crm-exporter')?.name,
      )?.configMap?.name;
      const data = kindOf<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap').find(
        (c) => c.metadata.name === configMapName,
      )?.data['crm-exporter.yaml'];
      const document = yaml.load(data ?? '') as Partial<Record<'logs' | 'postgres' | 'redis', unknown>>;
      return { name, workload, database: 'postgres' in document || 'redis' in document };
    });
    const collectors = roles.filter((r) => r.database);
    expect(collectors.map((r) => r.name)).toEqual(['Deployment/crm-exporter-collectors/crm-exporter']);
    expect(collectors[0]?.workload.spec.replicas).toBe(1);
    expect(collectors[0]?.workload.spec.strategy?.type).toBe('Recreate');
  });
});

describe('deploy/kubernetes/overlays/sidecar', () => {
  const objects = objectsOf('overlays/sidecar');
  const crm = workloadsOf(objects).find((w) => w.metadata.name === 'crm');

  it('runs the exporter beside the CRM in every CRM pod, the log on a size-limited emptyDir', () => {
    const names = crm?.spec.template.spec.containers.map((c) => c.name);
    expect(names).toEqual(['crm', 'crm-exporter', 'log-rotate']);
    expect(crm?.spec.template.spec.volumes?.find((v) => v.name === 'crm-logs')?.emptyDir?.sizeLimit).toBeDefined();
  });

  it("the rotation loop's shell sees $( after Kubernetes' $$ escape, and renames the file the CRM reopens", () => {
    const rotate = crm?.spec.template.spec.containers.find((c) => c.name === 'log-rotate');
    const script = rotate?.command?.[2] ?? '';
    // Kubernetes turns $$ into $ and leaves $size alone (no parentheses): the shell gets $(stat ...).
    expect(script).toContain('$$(stat -c %s /var/log/crm/access.log');
    expect(script).not.toMatch(/[^$]\$\(/);
    expect(crm?.spec.template.spec.containers.find((c) => c.name === 'crm')?.command).toContain(
      '--access-log-reopen=5',
    );
  });
});

describe('deploy/kubernetes/overlays/daemonset', () => {
  const objects = objectsOf('overlays/daemonset');
  const node = kindOf<Workload>(objects, 'DaemonSet').find((d) => d.metadata.name === 'crm-exporter-node');

  it("mounts the node's pod logs read-only and keeps its positions on the node", () => {
    const pod = node?.spec.template.spec;
    const volumes = Object.fromEntries((pod?.volumes ?? []).map((v) => [v.name, v.hostPath?.path]));
    const mounts = pod?.containers[0]?.volumeMounts ?? [];
    expect(mounts.find((m) => volumes[m.name] === '/var/log/pods')).toMatchObject({
      mountPath: '/var/log/pods',
      readOnly: true,
    });
    expect(mounts.find((m) => volumes[m.name] === '/var/lib/crm-exporter')).toMatchObject({
      mountPath: '/var/lib/crm-exporter',
    });
  });

  it('leaves the CRM access log on standard output, where the container runtime writes /var/log/pods', () => {
    const crm = workloadsOf(objects).find((w) => w.metadata.name === 'crm');
    expect(crm?.spec.template.spec.containers[0]?.command?.some((a) => a.startsWith('--access-log'))).toBe(false);
  });
});

describe('generated objects (regenerate and diff: run `npm run bundle`)', () => {
  const base = objectsOf('base');

  it('the PrometheusRule holds exactly the groups of alerting/rules/*.yml, recording rules first', () => {
    const plain = ['crm-recording.rules.yml', 'crm-alerts.rules.yml'].flatMap(
      (f) => (yaml.load(readFileSync(join('alerting/rules', f), 'utf8')) as { groups: Array<{ name: string }> }).groups,
    );
    expect(readdirSync('alerting/rules').sort()).toEqual(['crm-alerts.rules.yml', 'crm-recording.rules.yml']);
    const rules = kindOf<K8sObject & { spec: { groups: Array<{ name: string }> } }>(base, 'PrometheusRule');
    expect(rules).toHaveLength(1);
    expect(rules[0]?.spec.groups).toEqual(plain);
    expect(new Set(plain.map((g) => g.name)).size).toBe(plain.length);
  });

  it('deploy/kubernetes/base/prometheusrule.yaml equals a fresh render and says it is generated', () => {
    const committed = readFileSync(join(ROOT, 'base/prometheusrule.yaml'), 'utf8');
    expect(committed).toBe(renderPrometheusRule(thresholds, SOURCE));
    expect(committed.split('\n')[0]).toMatch(/^# Generated from alerting\/thresholds\.yaml .*Do not edit/);
  });

  it("one ConfigMap per dashboard with Grafana's sidecar label, holding exactly dashboards/<uid>.json", () => {
    const files = readdirSync('dashboards')
      .filter((f) => f.endsWith('.json'))
      .sort();
    const maps = kindOf<K8sObject & { data: Record<string, string> }>(base, 'ConfigMap').filter((c) =>
      selects(GRAFANA_DASHBOARD_LABEL, c.metadata.labels),
    );
    expect(maps.flatMap((c) => Object.keys(c.data)).sort()).toEqual(files);
    for (const map of maps) {
      const [[file, content]] = Object.entries(map.data) as [[string, string]];
      expect(content, file).toBe(readFileSync(join('dashboards', file), 'utf8'));
    }
  });

  it('deploy/kubernetes/base/grafana-dashboards.yaml equals a fresh render and says it is generated', () => {
    const committed = readFileSync(join(ROOT, 'base/grafana-dashboards.yaml'), 'utf8');
    expect(committed).toBe(renderGrafanaDashboardConfigMaps(thresholds, SOURCE));
    expect(committed.split('\n')[0]).toMatch(/^# Generated from alerting\/thresholds\.yaml .*Do not edit/);
  });
});

describe('the checks can fail', () => {
  it('the schema validation rejects a malformed object', () => {
    const broken = structuredClone(
      workloadsOf(objectsOf('overlays/sidecar')).find((w) => w.metadata.name === 'crm'),
    ) as Workload;
    (
      broken.spec.template.spec.containers[0] as unknown as { ports: Array<{ containerPort: unknown }> }
    ).ports[0]!.containerPort = 'http';
    expect(() => new Deployment(broken as never).validate()).toThrow(/containerPort/);
  });

  it('`kubectl kustomize` rejects a kustomization that reaches outside its folder (why the dashboards are rendered here)', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'crm-kustomize-'));
    try {
      const dir = join(tmp, 'a', 'b');
      writeFileSync(join(tmp, 'd.json'), '{}');
      spawnSync('mkdir', ['-p', dir]);
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        'configMapGenerator:\n  - name: d\n    files:\n      - ../../d.json\n',
      );
      const r = spawnSync(requireBinary('kubectl', 'kubectl'), ['kustomize', dir], { encoding: 'utf8' });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/not in or below/);
      expect(dirname(dir)).not.toBe(tmp);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
