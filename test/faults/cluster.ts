// The fault suite's services as the faults see them: brokers stopped, killed and started
// through scripts/services.sh, partition leaders and the active KRaft controller found from
// metadata, a wait for every replica to be back in sync, offsets and lag.
import { execFile } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { activeController } from '../helpers/kafka-tools.js';
import { sleep } from './workers.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const LOCAL_DIR = process.env.FD_LOCAL_DIR ?? join(ROOT, '.local');
export const FAULTS_DIR = join(LOCAL_DIR, 'faults');

export interface FaultServices {
  /** host:port of the 3 brokers, comma-separated. */
  brokers: string;
  /** host:port of the 3 KRaft controllers. */
  controllers: string;
  redisUrl: string;
}

/** What `scripts/services.sh up --faults` wrote to .local/faults/services.env. */
export function faultServices(): FaultServices {
  const env = Object.fromEntries(
    readFileSync(join(FAULTS_DIR, 'services.env'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  ) as Record<string, string | undefined>;
  if (!env.KAFKA_BROKERS || !env.KAFKA_CONTROLLERS || !env.REDIS_URL) throw new Error(`${FAULTS_DIR}/services.env lacks KAFKA_BROKERS, KAFKA_CONTROLLERS or REDIS_URL; run scripts/services.sh up --faults`);
  return { brokers: env.KAFKA_BROKERS, controllers: env.KAFKA_CONTROLLERS, redisUrl: env.REDIS_URL };
}

export const NODE_IDS = [1, 2, 3] as const;

export class FaultCluster {
  private adminClient: Promise<KafkaJS.Admin> | null = null;

  constructor(
    readonly services: FaultServices,
    /** Where services.sh's output goes. */
    private readonly logFile: string,
  ) {}

  /** `scripts/services.sh <args> --faults`, its output appended to the log. */
  servicesScript(...args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile('bash', [join(ROOT, 'scripts', 'services.sh'), ...args, '--faults'], { timeout: 180_000 }, (err, stdout, stderr) => {
        appendFileSync(this.logFile, stdout + stderr);
        if (err) reject(new Error(`services.sh ${args.join(' ')} failed: ${stderr || err.message}`));
        else resolve();
      });
    });
  }

  killNode(id: number): Promise<void> {
    return this.servicesScript('kafka-node', 'kill', String(id));
  }

  stopNode(id: number): Promise<void> {
    return this.servicesScript('kafka-node', 'stop', String(id));
  }

  startNode(id: number): Promise<void> {
    return this.servicesScript('kafka-node', 'start', String(id));
  }

  restartRedis(): Promise<void> {
    return this.servicesScript('redis-restart');
  }

  activeController(): Promise<number> {
    return activeController(this.services.controllers);
  }

  private admin(): Promise<KafkaJS.Admin> {
    this.adminClient ??= (async () => {
      const admin = new KafkaJS.Kafka({ 'bootstrap.servers': this.services.brokers, 'client.id': 'fd-faults-admin', log_level: 0 }).admin();
      await admin.connect();
      return admin;
    })();
    return this.adminClient;
  }

  async close(): Promise<void> {
    const admin = this.adminClient;
    this.adminClient = null;
    if (admin) await (await admin).disconnect().catch(() => undefined);
  }

  async metadata(topics: string[]): Promise<KafkaJS.ITopicMetadata[]> {
    return (await this.admin()).fetchTopicMetadata({ topics, timeout: 5000 });
  }

  /** The broker leading each partition of `topic`. */
  async leaders(topic: string): Promise<Map<number, number>> {
    const [t] = await this.metadata([topic]);
    return new Map((t?.partitions ?? []).map((p) => [p.partitionId, p.leader]));
  }

  /** Waits until every partition of `topics` has all its replicas in sync and a leader; false after `timeoutMs`. */
  async waitInSync(topics: string[], timeoutMs = 120_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        const meta = await this.metadata(topics);
        if (meta.every((t) => t.partitions.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length))) return true;
      } catch {
        // Brokers still coming back.
      }
      await sleep(500);
    }
    return false;
  }

  /** Per partition, the offset after the last record. */
  async endOffsets(topic: string): Promise<Map<number, bigint>> {
    const offsets = await (await this.admin()).fetchTopicOffsets(topic, { timeout: 10_000, isolationLevel: KafkaJS.IsolationLevel.READ_UNCOMMITTED });
    return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  }

  /** Per partition, the group's committed offset (-1: none). */
  async committed(groupId: string, topic: string): Promise<Map<number, bigint>> {
    const [entry] = await (await this.admin()).fetchOffsets({ groupId, topics: [topic], timeout: 10_000 });
    return new Map((entry?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  }

  /** Records of `topic` the group has not committed. */
  async lag(groupId: string, topic: string): Promise<number> {
    const [end, committed] = await Promise.all([this.endOffsets(topic), this.committed(groupId, topic)]);
    let lag = 0n;
    for (const [p, high] of end) {
      const c = committed.get(p) ?? -1n;
      lag += high - (c < 0n ? 0n : c);
    }
    return Number(lag);
  }

  /**
   * Waits until each group has committed everything in its topic: true when their lag reaches
   * 0; false once it has not moved for `stallMs` (and `notBeforeMs` has passed), or at `timeoutMs`.
   */
  async waitCaughtUp(consumers: readonly { group: string; topic: string }[], o: { timeoutMs: number; stallMs: number; notBeforeMs?: number }): Promise<boolean> {
    const deadline = Date.now() + o.timeoutMs;
    let last = -1;
    let lastChange = Date.now();
    while (Date.now() < deadline) {
      let lag: number;
      try {
        lag = (await Promise.all(consumers.map((c) => this.lag(c.group, c.topic)))).reduce((a, b) => a + b, 0);
      } catch {
        // Brokers still coming back, or an admin request timed out on a loaded machine: no
        // reading, which says nothing of the group's progress (the deadline still bounds it).
        await sleep(500);
        continue;
      }
      if (lag === 0) return true;
      if (lag !== last) {
        last = lag;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > o.stallMs && Date.now() > (o.notBeforeMs ?? 0)) {
        return false;
      }
      await sleep(500);
    }
    return false;
  }
}
