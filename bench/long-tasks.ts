// What holds a thread's event loop: from a V8 CPU profile (`node --cpu-prof`), the stretches
// of consecutive busy samples (no idle sample between them) longer than --min-ms, each with
// its stages (profile-table.ts) and its heaviest functions. An event that arrives during such
// a stretch waits for it: these are the p99's suspects.
//   npx tsx bench/long-tasks.ts <file.cpuprofile | dir> [--min-ms 5] [--top 15]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stageOf, type CpuProfile, type ProfileNode } from './profile-table.js';

export interface LongTask {
  /** µs since the profile's start. */
  startUs: number;
  durationUs: number;
  stages: Map<string, number>;
  functions: Map<string, number>;
}

/** Busy stretches of at least `minUs`: consecutive samples none of which is (idle). */
export function longTasks(profile: CpuProfile, minUs: number): LongTask[] {
  const byId = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOfNode = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      const stage = node === undefined ? undefined : stageOf(node.callFrame);
      if (stage !== undefined) return stage;
    }
    return 'other (Node.js, V8)';
  };
  const nameOf = (id: number): string => {
    const f = byId.get(id)?.callFrame;
    if (f === undefined) return '?';
    const file = f.url.split('/').slice(-2).join('/');
    return `${f.functionName || '(anonymous)'}${file ? ` ${file}` : ''}`;
  };
  const tasks: LongTask[] = [];
  let current: LongTask | null = null;
  let t = 0;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const idle = byId.get(id)?.callFrame.functionName === '(idle)';
    if (idle) {
      if (current !== null && current.durationUs >= minUs) tasks.push(current);
      current = null;
      return;
    }
    current ??= { startUs: t, durationUs: 0, stages: new Map(), functions: new Map() };
    current.durationUs += dt;
    const stage = stageOfNode(id);
    current.stages.set(stage, (current.stages.get(stage) ?? 0) + dt);
    const fn = nameOf(id);
    current.functions.set(fn, (current.functions.get(fn) ?? 0) + dt);
  });
  const last = current as LongTask | null;
  if (last !== null && last.durationUs >= minUs) tasks.push(last);
  return tasks;
}

function top(m: Map<string, number>, n: number): string {
  return [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`)
    .join(', ');
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'min-ms': { type: 'string', default: '5' }, top: { type: 'string', default: '15' } } });
  const target = positionals[0];
  if (target === undefined) throw new Error('usage: long-tasks.ts <file.cpuprofile | dir> [--min-ms 5] [--top 15]');
  const files = statSync(target).isDirectory() ? readdirSync(target).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(target, f)) : [target];
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const tasks = longTasks(profile, Number(values['min-ms']) * 1000);
    const seconds = (profile.endTime - profile.startTime) / 1e6;
    console.log(`${file}: ${seconds.toFixed(1)} s profiled, ${tasks.length} busy stretches ≥ ${values['min-ms']} ms`);
    for (const task of [...tasks].sort((a, b) => b.durationUs - a.durationUs).slice(0, Number(values.top))) {
      console.log(`  at ${(task.startUs / 1e6).toFixed(2)} s: ${(task.durationUs / 1000).toFixed(1)} ms; stages (ms) ${top(task.stages, 4)}`);
      console.log(`      functions (self ms) ${top(task.functions, 5)}`);
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
