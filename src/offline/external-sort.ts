// Records sorted in bounded memory: held until they take `maxHeldBytes`, then written to a
// temporary file as one sorted run; read back as one k-way merge of the runs. A sort that
// fits in memory never touches the disk. The offline commands sort out-of-order input (and
// put decisions back in input order) through it, so memory does not grow with the file.
import { rmSync } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SortRecord {
  key: number;
  /** Orders records of equal key (a line number, an arrival order). */
  tie: number;
  payload: Buffer;
}

/** Records held in memory before a run is written (payloads plus a per-record overhead). */
export const DEFAULT_HELD_BYTES = 64 * 1024 * 1024;
/** A record's object and its Buffer's, as measured (about 190 bytes of heap, 340 of RSS, with a 330-byte payload). */
const RECORD_OVERHEAD = 256;
/** key (f64), tie (f64), payload length (u32). */
const HEADER = 20;
const READ_BYTES = 1 << 20;

const byKey = (a: SortRecord, b: SortRecord): number => a.key - b.key || a.tie - b.tie;

/**
 * Run directories not yet disposed of, removed when the process exits: a replay stopped by
 * Ctrl-C ends through process.exit (cli/early-signals.ts), where no `finally` runs.
 */
const undisposed = new Set<string>();
let exitHook = false;

function removeAtExit(dir: string): void {
  undisposed.add(dir);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const d of undisposed) rmSync(d, { recursive: true, force: true });
  });
}

export class ExternalSorter {
  private held: SortRecord[] = [];
  private heldBytes = 0;
  private readonly runs: string[] = [];
  private dir: string | null = null;

  constructor(private readonly maxHeldBytes: number = DEFAULT_HELD_BYTES) {}

  /** Number of runs written to disk so far. */
  get spilled(): number {
    return this.runs.length;
  }

  async add(key: number, tie: number, payload: Buffer): Promise<void> {
    this.held.push({ key, tie, payload });
    this.heldBytes += payload.length + RECORD_OVERHEAD;
    if (this.heldBytes >= this.maxHeldBytes) await this.spill();
  }

  /** Every record added, in (key, tie) order. Call once, after the last `add`. */
  async *sorted(): AsyncGenerator<SortRecord> {
    this.held.sort(byKey);
    if (this.runs.length === 0) {
      const held = this.held;
      this.held = [];
      yield* held;
      return;
    }
    await this.spill();
    const readers = await Promise.all(this.runs.map((path) => RunReader.open(path)));
    try {
      yield* merge(readers);
    } finally {
      await Promise.all(readers.map((r) => r.close()));
    }
  }

  /** Removes the runs' files. */
  async dispose(): Promise<void> {
    this.held = [];
    if (this.dir !== null) {
      await rm(this.dir, { recursive: true, force: true });
      undisposed.delete(this.dir);
    }
    this.dir = null;
  }

  private async spill(): Promise<void> {
    if (this.held.length === 0) return;
    this.held.sort(byKey);
    if (this.dir === null) {
      this.dir = await mkdtemp(join(tmpdir(), 'fd-sort-'));
      removeAtExit(this.dir);
    }
    const path = join(this.dir, `run-${this.runs.length}`);
    await writeRun(path, this.held);
    this.runs.push(path);
    this.held = [];
    this.heldBytes = 0;
  }
}

async function writeRun(path: string, records: readonly SortRecord[]): Promise<void> {
  const file = await open(path, 'w');
  try {
    let buf = Buffer.allocUnsafe(READ_BYTES);
    let used = 0;
    for (const r of records) {
      const size = HEADER + r.payload.length;
      if (used + size > buf.length) {
        await file.write(buf, 0, used);
        used = 0;
        if (size > buf.length) buf = Buffer.allocUnsafe(size);
      }
      buf.writeDoubleLE(r.key, used);
      buf.writeDoubleLE(r.tie, used + 8);
      buf.writeUInt32LE(r.payload.length, used + 16);
      r.payload.copy(buf, used + HEADER);
      used += size;
    }
    if (used > 0) await file.write(buf, 0, used);
  } finally {
    await file.close();
  }
}

/** One run read back record by record, a megabyte at a time. */
class RunReader {
  head: SortRecord | null = null;
  private buf = Buffer.alloc(0);
  private at = 0;
  private ended = false;

  private constructor(private readonly file: FileHandle) {}

  static async open(path: string): Promise<RunReader> {
    const reader = new RunReader(await open(path, 'r'));
    await reader.advance();
    return reader;
  }

  /** Moves `head` to the next record (null at the end). */
  async advance(): Promise<void> {
    if (!(await this.ensure(HEADER))) {
      this.head = null;
      return;
    }
    const length = this.buf.readUInt32LE(this.at + 16);
    await this.ensure(HEADER + length);
    const key = this.buf.readDoubleLE(this.at);
    const tie = this.buf.readDoubleLE(this.at + 8);
    this.head = { key, tie, payload: this.buf.subarray(this.at + HEADER, this.at + HEADER + length) };
    this.at += HEADER + length;
  }

  close(): Promise<void> {
    return this.file.close();
  }

  /** Whether `bytes` bytes are buffered from `at`, reading more (into a fresh buffer: payloads handed out stay valid). */
  private async ensure(bytes: number): Promise<boolean> {
    if (this.buf.length - this.at >= bytes) return true;
    if (this.ended) return false;
    const left = this.buf.subarray(this.at);
    const next = Buffer.allocUnsafe(Math.max(READ_BYTES, bytes));
    left.copy(next);
    let filled = left.length;
    while (filled < next.length) {
      const { bytesRead } = await this.file.read(next, filled, next.length - filled, null);
      if (bytesRead === 0) {
        this.ended = true;
        break;
      }
      filled += bytesRead;
    }
    this.buf = next.subarray(0, filled);
    this.at = 0;
    return filled >= bytes;
  }
}

/** The runs' records in (key, tie) order: a binary heap of the runs by their head record. */
async function* merge(readers: RunReader[]): AsyncGenerator<SortRecord> {
  const heap = readers.filter((r) => r.head !== null);
  const less = (a: RunReader, b: RunReader): boolean => byKey(a.head as SortRecord, b.head as SortRecord) < 0;
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l] as RunReader, heap[m] as RunReader)) m = l;
      if (r < heap.length && less(heap[r] as RunReader, heap[m] as RunReader)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m] as RunReader, heap[i] as RunReader];
      i = m;
    }
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  while (heap.length > 0) {
    const top = heap[0] as RunReader;
    yield top.head as SortRecord;
    await top.advance();
    if (top.head === null) {
      heap[0] = heap[heap.length - 1] as RunReader;
      heap.pop();
    }
    down(0);
  }
}
