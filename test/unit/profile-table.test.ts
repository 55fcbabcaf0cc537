// bench/profile-table.ts charges each CPU sample to the stage of its innermost staged frame.
import { describe, expect, it } from 'vitest';
import { formatProfileTable, profileStages } from '../../bench/profile-table.js';

const frame = (functionName: string, url = '') => ({ functionName, url, scriptId: '0', lineNumber: 0, columnNumber: 0 });

// root → kafka consumer → process-batch → engine → (builtin Map.get); root → ioredis → state-codec; GC; idle
const profile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 7, 8, 9] },
    { id: 2, callFrame: frame('eachBatch', 'file:///app/node_modules/@confluentinc/kafka-javascript/lib/kafkajs/_consumer.js'), children: [3] },
    { id: 3, callFrame: frame('processBatch', 'file:///app/dist/pipeline/process-batch.js'), children: [4] },
    { id: 4, callFrame: frame('groupByEntity', 'file:///app/dist/features/engine.js'), children: [5] },
    { id: 5, callFrame: frame('get'), children: [] },
    { id: 6, callFrame: frame('writeState', 'file:///app/dist/features/state-codec.js'), children: [] },
    { id: 7, callFrame: frame('write', 'file:///app/node_modules/ioredis/built/Pipeline.js'), children: [6] },
    { id: 8, callFrame: frame('(garbage collector)'), children: [] },
    { id: 9, callFrame: frame('(idle)'), children: [] },
  ],
  startTime: 1000,
  endTime: 2000,
  // Each sample's time is the delta to the next one.
  samples: [5, 3, 6, 7, 8, 9, 5],
  timeDeltas: [0, 100, 10, 20, 30, 40, 50],
};

describe('profile table', () => {
  it('charges samples to the innermost staged frame, GC apart, idle left out', () => {
    const stages = profileStages(profile, 0, Infinity);
    expect(stages.get('feature engine')).toBe(100 + 0); // the Map.get inside engine.js (twice: 100 µs, then the last sample's 0)
    expect(stages.get('batch pipeline')).toBe(10);
    expect(stages.get('state encoding')).toBe(20); // writeState, though ioredis called it
    expect(stages.get('Redis client')).toBe(30);
    expect(stages.get('garbage collection')).toBe(40);
    expect(stages.has('idle')).toBe(false);
  });

  it('keeps only the samples inside the window', () => {
    const stages = profileStages(profile, 1005, 1150);
    expect([...stages.values()].reduce((a, b) => a + b, 0)).toBe(10 + 20 + 30);
  });

  it('prints µs per event per thread and process', () => {
    const table = formatProfileTable([{ thread: 'main thread', micros: new Map([['feature engine', 2000], ['rules', 1000]]) }], [{ name: 'Redis', seconds: 0.004 }], 100);
    expect(table).toMatch(/worker, main thread\s+30\.0/);
    expect(table).toMatch(/feature engine\s+20\.0/);
    expect(table).toMatch(/Redis\s+40\.0/);
  });
});
