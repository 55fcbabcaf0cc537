// The deployment kit: every Kubernetes manifest validates against its schema (kubernetes-models,
// with the KEDA and Prometheus Operator packages), and the manifests agree with the code: the
// environment is exactly settings the configuration accepts, credentials are files from mounted
// Secrets (none in the environment) with TLS and the Redis ACL user, the probes are the server's paths on
// its port, the grace period outlasts the drain, the autoscaler stops at the partition count, the
// mounted rules and alert rules are the repository's, and the image runs the tested install scripts.
// Every alert has a unit test in which it fires and one in which it stays silent, and a runbook section.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { CONFIG_KEYS, loadConfig, redisTlsOn } from '../../src/config.js';
import { DEFAULT_FEATURE_SET } from '../../src/features/definitions.js';
import { startHealthServer } from '../../src/observability/health-server.js';
import { Registry } from 'prom-client';
import { parseRulesFile } from '../../src/rules/load.js';
import { NO_LISTS } from '../../src/rules/lists.js';

const DIR = 'deploy/k8s';
type Doc = { apiVersion: string; kind: string; metadata: { name: string }; [key: string]: unknown };
const docs: { file: string; doc: Doc }[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .flatMap((file) => parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => ({ file, doc: d.toJS() as Doc })));
const find = <T,>(kind: string, name?: string): T => docs.find((d) => d.doc.kind === kind && (name === undefined || d.doc.metadata.name === name))?.doc as T;

interface SecretVolume { name: string; secret?: { secretName: string; defaultMode?: number } }
const secretData = (name: string): Record<string, string> => find<{ stringData: Record<string, string> }>('Secret', name).stringData;
const container0 = (): Container => find<DeploymentDoc>('Deployment').spec.template.spec.containers[0] as Container;

/** Each mounted Secret's files, written under a temporary directory standing for its mount path. */
function mountedSecrets(): { mountPath: string; secretName: string; dir: string }[] {
  const volumes = (find<{ spec: { template: { spec: { volumes: SecretVolume[] } } } }>('Deployment').spec.template.spec.volumes);
  const root = mkdtempSync(join(tmpdir(), 'fd-pod-secrets-'));
  return container0().volumeMounts.flatMap((m) => {
    const secretName = volumes.find((v) => v.name === m.name)?.secret?.secretName;
    if (secretName === undefined) return [];
    const dir = join(root, m.name);
    mkdirSync(dir);
    for (const [key, value] of Object.entries(secretData(secretName))) writeFileSync(join(dir, key), value);
    return [{ mountPath: m.mountPath, secretName, dir }];
  });
}

/** The environment a pod runs with: the ConfigMap, the variables set from Secrets, and the Secrets' files where their mounts put them. */
function podEnv(): Record<string, string> {
  const mounts = mountedSecrets();
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(find<{ data: Record<string, string> }>('ConfigMap', 'fraud-detector-config').data)) {
    const mount = mounts.find((m) => value.startsWith(`${m.mountPath}/`));
    env[key] = mount === undefined ? value : join(mount.dir, value.slice(mount.mountPath.length + 1));
  }
  for (const e of container0().env) {
    if (e.valueFrom?.secretKeyRef) env[e.name] = secretData(e.valueFrom.secretKeyRef.name)[e.valueFrom.secretKeyRef.key] ?? '';
  }
  return env;
}
const podConfig = (): ReturnType<typeof loadConfig> => loadConfig(podEnv());

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  ConfigMap, Secret, Service, Deployment, PodDisruptionBudget, NetworkPolicy, ScaledObject, TriggerAuthentication, PodMonitor, PrometheusRule,
};

interface Container {
  ports: { name: string; containerPort: number }[];
  env: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  volumeMounts: { name: string; mountPath: string }[];
  securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean };
}
interface DeploymentDoc {
  spec: { template: { spec: { terminationGracePeriodSeconds: number; securityContext: { runAsNonRoot: boolean; runAsUser: number }; containers: Container[] } } };
}

describe('Kubernetes manifests', () => {
  it('all validate against their schemas, and the kustomization lists them all', () => {
    expect(docs.map((d) => d.doc.kind).sort()).toEqual(['ConfigMap', 'ConfigMap', 'ConfigMap', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'PodMonitor', 'PrometheusRule', 'ScaledObject', 'Secret', 'Secret', 'Service', 'TriggerAuthentication']);
    for (const { file, doc } of docs) {
      const Model = MODELS[doc.kind];
      expect(Model, `${file}: ${doc.kind}`).toBeDefined();
      expect(() => new (Model as NonNullable<typeof Model>)(doc as never).validate(), `${file}: ${doc.kind} ${doc.metadata.name}`).not.toThrow();
    }
    const kustomization = parse(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    expect(kustomization.resources.sort()).toEqual([...new Set(docs.map((d) => d.file))].sort());
  });

  it('set only environment variables the configuration accepts, with values it accepts', () => {
    const config = find<{ data: Record<string, string> }>('ConfigMap', 'fraud-detector-config').data;
    const container = container0();
    const names = [...Object.keys(config), ...container.env.map((e) => e.name)];
    expect(names.filter((n) => !CONFIG_KEYS.includes(n))).toEqual([]);
    expect(container.envFrom).toEqual([{ configMapRef: { name: 'fraud-detector-config' } }]);
    const loaded = loadConfig({ ...podEnv(), KAFKA_CLIENT_ID: 'fraud-detector-abc12' });
    expect(loaded.KAFKA_SECURITY_PROTOCOL).toBe('sasl_ssl');
  });

  it('connect with the secured settings: secrets and CAs as files from Secrets, the Redis ACL user, TLS everywhere', () => {
    const config = find<{ data: Record<string, string> }>('ConfigMap', 'fraud-detector-config').data;
    const container = container0();
    // No secret in the ConfigMap nor in the environment; every file setting is in a mounted Secret, at a key it has.
    expect(Object.keys(config).filter((k) => /PASSWORD$/.test(k))).toEqual([]);
    expect(new URL(config.REDIS_URL ?? '').password).toBe('');
    expect(container.env.filter((e) => /PASSWORD/.test(e.name))).toEqual([]);
    const mounts = mountedSecrets();
    for (const key of ['KAFKA_SASL_PASSWORD_FILE', 'KAFKA_SSL_CA_LOCATION', 'REDIS_PASSWORD_FILE', 'REDIS_TLS_CA_FILE']) {
      const path = config[key] ?? '';
      const mount = mounts.find((m) => path.startsWith(`${m.mountPath}/`));
      expect(mount, key).toBeDefined();
      expect(Object.keys(secretData(mount?.secretName ?? '')), key).toContain(path.slice((mount?.mountPath.length ?? 0) + 1));
    }
    const volumes = find<{ spec: { template: { spec: { volumes: SecretVolume[] } } } }>('Deployment').spec.template.spec.volumes;
    for (const v of volumes.filter((v) => v.secret)) expect(v.secret?.defaultMode, v.name).toBe(0o440);
    const loaded = podConfig();
    expect(loaded).toMatchObject({ KAFKA_SECURITY_PROTOCOL: 'sasl_ssl', KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: secretData('fraud-detector-kafka').username, KAFKA_SSL_ENDPOINT_IDENTIFICATION: 'https' });
    expect(loaded.KAFKA_SASL_PASSWORD).toBe(secretData('fraud-detector-kafka').password);
    expect(loaded).toMatchObject({ REDIS_USERNAME: 'fd-detector', REDIS_PASSWORD: secretData('fraud-detector-redis').password, REDIS_KEY_PREFIX: 'fd' });
    expect(redisTlsOn(loaded)).toBe(true);
    // KEDA reads the lag as the worker's own principal, from the same Secret.
    const auth = find<{ spec: { secretTargetRef: { parameter: string; name: string; key: string }[] } }>('TriggerAuthentication').spec.secretTargetRef;
    expect(auth.every((r) => r.name === 'fraud-detector-kafka' && r.key in secretData('fraud-detector-kafka'))).toBe(true);
  });

  it('probe the server\'s paths on its port, and give the drain time to finish', async () => {
    const config = podConfig();
    const pod = find<DeploymentDoc>('Deployment').spec.template.spec;
    const container = pod.containers[0] as Container;
    const http = container.ports.find((p) => p.name === 'http');
    expect(http?.containerPort).toBe(config.HTTP_PORT);
    expect([container.readinessProbe.httpGet, container.livenessProbe.httpGet]).toEqual([{ path: '/readyz', port: 'http' }, { path: '/healthz', port: 'http' }]);
    // The paths are the server's: ready answers 503 when not ready, alive 200.
    const server = await startHealthServer('127.0.0.1', 0, new Registry(), { healthy: () => true, ready: () => false });
    try {
      expect((await fetch(`http://127.0.0.1:${server.port}${container.livenessProbe.httpGet.path}`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${server.port}${container.readinessProbe.httpGet.path}`)).status).toBe(503);
    } finally {
      await server.close();
    }
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(config.SHUTDOWN_TIMEOUT_MS + 5000);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    // The rules, the lists and the Kafka CA are mounted where the configuration reads them.
    const mounts = Object.fromEntries(container.volumeMounts.map((m) => [m.name, m.mountPath]));
    expect([mounts.rules, mounts.lists]).toEqual([config.RULES_DIR, config.LISTS_DIR]);
    expect(find<{ data: Record<string, string> }>('ConfigMap', 'fraud-detector-config').data.KAFKA_SSL_CA_LOCATION?.startsWith(`${mounts.kafka ?? '?'}/`)).toBe(true);
  });

  it('scale on the consumer group\'s lag, to at most one worker per partition', () => {
    const config = podConfig();
    const scaled = find<{ spec: { maxReplicaCount: number; scaleTargetRef: { name: string }; triggers: { type: string; metadata: Record<string, string> }[] } }>('ScaledObject').spec;
    expect(scaled.maxReplicaCount).toBeLessThanOrEqual(config.TRANSACTIONS_PARTITIONS);
    expect(scaled.scaleTargetRef.name).toBe(find<Doc>('Deployment').metadata.name);
    const [kafka] = scaled.triggers;
    expect(kafka?.type).toBe('kafka');
    expect(kafka?.metadata).toMatchObject({ consumerGroup: config.KAFKA_GROUP_ID, topic: config.TOPIC_TRANSACTIONS, bootstrapServers: config.KAFKA_BROKERS.join(',') });
  });

  it('mount the repository\'s rules and alert rules', () => {
    const rules = find<{ data: Record<string, string> }>('ConfigMap', 'fraud-detector-rules').data;
    expect(rules['default.yaml']).toBe(readFileSync('rules/default.yaml', 'utf8'));
    expect(parseRulesFile('default.yaml', rules['default.yaml'] as string, DEFAULT_FEATURE_SET, NO_LISTS).rules.length).toBeGreaterThan(0);
    const groups = (parse(readFileSync('deploy/prometheus/fraud-detector.rules.yaml', 'utf8')) as { groups: unknown[] }).groups;
    expect(find<{ spec: { groups: unknown[] } }>('PrometheusRule').spec.groups).toEqual(groups);
  });
});

describe('the alert rules', () => {
  interface Rule { record?: string; alert?: string; labels?: { severity?: string }; annotations?: Record<string, string> }
  interface AlertCase { alertname: string; exp_alerts?: unknown[] }
  const alerts = (parse(readFileSync('deploy/prometheus/fraud-detector.rules.yaml', 'utf8')) as { groups: { rules: Rule[] }[] }).groups
    .flatMap((g) => g.rules)
    .filter((r) => r.alert !== undefined);
  const cases = (parse(readFileSync('deploy/prometheus/fraud-detector.rules.test.yaml', 'utf8')) as { tests: { alert_rule_test: AlertCase[] }[] }).tests
    .flatMap((t) => t.alert_rule_test);
  const runbook = readFileSync('docs/runbook.md', 'utf8');

  it('each have a unit test in which they fire and one in which they stay silent', () => {
    for (const a of alerts) {
      expect(cases.some((c) => c.alertname === a.alert && (c.exp_alerts?.length ?? 0) > 0), `${a.alert} fires somewhere`).toBe(true);
      expect(cases.some((c) => c.alertname === a.alert && (c.exp_alerts?.length ?? 0) === 0), `${a.alert} stays silent somewhere`).toBe(true);
    }
    expect(cases.filter((c) => !alerts.some((a) => a.alert === c.alertname)).map((c) => c.alertname)).toEqual([]);
  });

  it('each link a runbook section of their own name, and have a severity', () => {
    for (const a of alerts) {
      const [path, anchor] = (a.annotations?.runbook_url ?? '').split('#');
      expect(path, `${a.alert} runbook_url`).toBe('docs/runbook.md');
      expect(runbook, `runbook section for ${a.alert}`).toContain(`<a id="${anchor}"></a>\n## ${a.alert}\n`);
      expect(['warning', 'page'], `${a.alert} severity`).toContain(a.labels?.severity);
    }
    // No section for an alert that no longer exists.
    expect([...runbook.matchAll(/^## (\S+)$/gm)].map((m) => m[1])).toEqual(alerts.map((a) => a.alert));
  });
});

describe('the Dockerfile', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');

  it('builds in two stages with the tested install scripts, and runs as the pods\' non-root user', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^RUN scripts\/setup\.sh --build && npm prune --omit=dev$/m);
    expect(dockerfile).toMatch(/^RUN scripts\/install-system\.sh --runtime /m);
    const user = /^USER (\d+):(\d+)$/m.exec(dockerfile);
    const pod = find<DeploymentDoc>('Deployment').spec.template.spec.securityContext;
    expect(Number(user?.[1])).toBe(pod.runAsUser);
    // MODEL_PATH points into the image.
    const config = find<{ data: Record<string, string> }>('ConfigMap', 'fraud-detector-config').data;
    expect(dockerfile).toMatch(/^WORKDIR \/app$/m);
    expect(dockerfile).toMatch(/^COPY models models$/m);
    expect(config.MODEL_PATH).toBe('/app/models/default.onnx');
  });
});
