// Where the worker's CPU goes, stage by stage, from V8 CPU profiles (`node --cpu-prof`, one
// file per thread). Each sample is charged to the stage of the innermost frame that belongs
// to a stage: a Map lookup inside engine.js is the feature engine's, a Buffer copy inside
// ioredis is the Redis client's. Samples outside the measured window are left out.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CallFrame {
  functionName: string;
  url: string;
}

export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A stage and the frames that are its own: a path fragment of the (built) module, or a V8 pseudo-frame. */
interface StageRule {
  stage: string;
  match: (frame: CallFrame) => boolean;
}

const inModule = (...fragments: string[]) => (frame: CallFrame): boolean => fragments.some((f) => frame.url.includes(f));

/** In order: the first rule a frame matches names its stage. */
export const STAGE_RULES: readonly StageRule[] = [
  { stage: 'garbage collection', match: (f) => f.functionName === '(garbage collector)' },
  { stage: 'idle', match: (f) => f.functionName === '(idle)' },
  { stage: 'state encoding', match: inModule('/dist/features/state-codec.js', '/dist/features/state-slabs.js', '/dist/features/redis/cas-script.js') },
  { stage: 'Redis client', match: inModule('/node_modules/ioredis/', '/node_modules/redis-parser/', '/node_modules/@ioredis/', '/dist/features/redis/') },
  { stage: 'store thread messages', match: inModule('/dist/features/threaded/') },
  { stage: 'decision journal', match: inModule('/dist/features/journal.js') },
  { stage: 'feature engine', match: inModule('/dist/features/') },
  { stage: 'model', match: inModule('/dist/models/', '/node_modules/onnxruntime-node/', '/node_modules/onnxruntime-common/') },
  { stage: 'rules', match: inModule('/dist/rules/', '/node_modules/@marcbachmann/cel-js/') },
  { stage: 'alerts (build, serialise)', match: inModule('/dist/contract/decision', '/dist/pipeline/decide.js') },
  { stage: 'parse and validate', match: inModule('/dist/contract/', '/dist/pipeline/validate.js', '/node_modules/ajv', '/dist/formats.js') },
  { stage: 'committing', match: inModule('/dist/kafka/committer.js', '/dist/kafka/commits.js') },
  { stage: 'producing', match: inModule('/dist/kafka/output-path.js', '/dist/kafka/outputs.js', '/dist/kafka/dlq.js', '/dist/kafka/transactions.js', '/kafka-javascript/lib/kafkajs/_producer.js', '/kafka-javascript/lib/producer') },
  { stage: 'metrics and logs', match: inModule('/dist/observability/', '/node_modules/prom-client/', '/node_modules/pino') },
  { stage: 'batch pipeline', match: inModule('/dist/pipeline/') },
  { stage: 'Kafka consumer and messages', match: inModule('/kafka-javascript/', '/dist/kafka/') },
];

const OTHER = 'other (Node.js, V8)';

/** Stage names in table order. */
export const STAGES: readonly string[] = [...STAGE_RULES.map((r) => r.stage).filter((s) => s !== 'idle'), OTHER];

/** Microseconds of CPU per stage in one thread's profile, between `from` and `to` (µs, the monotonic clock the profile uses). */
export interface ThreadProfile {
  thread: string;
  micros: Map<string, number>;
}

export function stageOf(frame: CallFrame): string | undefined {
  return STAGE_RULES.find((r) => r.match(frame))?.stage;
}

/** Charges each sample in [from, to] to the stage of its innermost staged frame. */
export function profileStages(profile: CpuProfile, from: number, to: number): Map<string, number> {
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const stages = new Map<number, string>();
  const stageOfNode = (id: number): string => {
    const known = stages.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    const own = node === undefined ? undefined : stageOf(node.callFrame);
    const up = parent.get(id);
    const stage = own ?? (up === undefined ? OTHER : stageOfNode(up));
    stages.set(id, stage);
    return stage;
  };
  const micros = new Map<string, number>();
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    if (t < from || t > to) return;
    const stage = stageOfNode(id);
    micros.set(stage, (micros.get(stage) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  });
  micros.delete('idle');
  return micros;
}

/** The worker's threads: the one running store-thread.js is the feature store's. */
export function readProfiles(dir: string, from: number, to: number): ThreadProfile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .map((f) => {
      const profile = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
      const store = profile.nodes.some((n) => n.callFrame.url.includes('/features/threaded/store-thread.js'));
      return { thread: store ? 'feature store thread' : 'main thread', micros: profileStages(profile, from, to) };
    });
}

export interface ProcessCpu {
  name: string;
  seconds: number;
}

/** A table of µs of CPU per event: per thread of the worker, stage by stage, then per process. */
export function formatProfileTable(threads: readonly ThreadProfile[], processes: readonly ProcessCpu[], events: number): string {
  const perEvent = (micros: number): string => (micros / events).toFixed(1).padStart(7);
  const lines = [`  ${'where'.padEnd(44)} µs/event`];
  for (const { thread, micros } of threads) {
    const total = [...micros.values()].reduce((a, b) => a + b, 0);
    lines.push(`  worker, ${thread}`.padEnd(46) + perEvent(total));
    for (const stage of STAGES) {
      const m = micros.get(stage) ?? 0;
      if (m / events >= 0.05) lines.push(`    ${stage}`.padEnd(46) + perEvent(m));
    }
  }
  for (const p of processes) lines.push(`  ${p.name}`.padEnd(46) + perEvent(p.seconds * 1e6));
  return lines.join('\n');
}
