// Encodes a batch for the observe script as one little-endian binary argument: far cheaper
// to build, send and parse than tens of thousands of separate arguments.
import type { EntityBatch } from '../store.js';
import type { WindowSpec } from '../windows.js';
import { dedupeSpec, ringSlots } from '../windows.js';

export function encodeObserveArgs(batches: readonly EntityBatch[], allowedLatenessMs: number, ttlMs: number): Buffer {
  const kinds = new Map<readonly WindowSpec[], number>();
  for (const b of batches) if (!kinds.has(b.windows)) kinds.set(b.windows, kinds.size);
  const ids = batches.map((b) => b.events.map((e) => Buffer.from(e.transactionId, 'utf8')));
  let size = 8 * 6;
  for (const windows of kinds.keys()) size += 8 + windows.length * 24;
  batches.forEach((b, i) => {
    size += 16 + b.events.length * 20;
    for (const id of ids[i] as Buffer[]) size += id.length;
  });
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  const num = (v: number): void => {
    at = buf.writeDoubleLE(v, at);
  };
  const dedupe = dedupeSpec(allowedLatenessMs);
  num(allowedLatenessMs);
  num(ttlMs);
  num(dedupe.bucketMs);
  num(dedupe.slots);
  num(kinds.size);
  for (const windows of kinds.keys()) {
    num(windows.length);
    for (const w of windows) {
      num(w.bucketMs);
      num(w.buckets);
      num(ringSlots(w, allowedLatenessMs));
    }
  }
  num(batches.length);
  batches.forEach((b, i) => {
    num(kinds.get(b.windows) as number);
    num(b.events.length);
    b.events.forEach((e, k) => {
      const id = (ids[i] as Buffer[])[k] as Buffer;
      at = buf.writeUInt32LE(id.length, at);
      at += id.copy(buf, at);
      num(e.eventTimeMs);
      num(e.amount);
    });
  });
  return buf.subarray(0, at);
}
