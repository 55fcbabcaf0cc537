// Compare-and-set of entity states: each key is written only if its stored version is the
// one the worker read, so concurrent workers never lose each other's updates. In the same
// atomic step, the decision journal (journal.ts) of each partition in the call gets the rows
// of what its events observed, unless another worker has claimed the partition since.
// KEYS: N entity keys, then per partition its owner key and its journal key.
// ARGV[1]: ttlMs. ARGV[2]: per entity key, a little-endian double (the expected version; 0 for
// none) then a uint32 length and the new value, whose first 8 bytes are its new version (one
// binary argument: ioredis spends about a microsecond per argument). ARGV[3]: N.
// ARGV[4]: the journals' ttlMs. Then per partition: the epoch its owner claimed, the field and
// the rows of its journal entry (a hash field per entry, see journalField).
// Reply: the 1-based indexes of the keys whose version had changed (not written); or, when a
// partition's owner is no longer the one that claimed that epoch, the negative 1-based indexes
// of those partitions, and nothing is written. An owner key that is gone (Redis lost its data)
// is set back to the caller's epoch: nobody has claimed the partition since, and a later
// claim still counts up from there.
import type { EntityState } from '../entity-state.js';
import { encodedLength, writeState } from '../state-codec.js';
import type { StateSpec } from '../windows.js';

// Each key costs one command in the common case: SET ... GET writes and returns the value it
// replaced; when that value's version is not the expected one (another worker wrote first),
// the old value is put back. Measured here: 4.4 µs of Redis CPU per key, against 5.4 µs for
// a GETRANGE check before the SET (Redis's Lua pays about a microsecond per command). A large
// state (a busy merchant's) is checked with GETRANGE instead: returning the replaced value
// into Lua costs more than the extra command from a few KB on (34 KB: 290-316 µs per call
// against 242-246 µs, measured here).
export const CAS_SCRIPT = `
local n = tonumber(ARGV[3])
local journals = (#KEYS - n) / 2
local fenced = {}
local unowned = {}
for j = 1, journals do
  local owner = redis.call('GET', KEYS[n + 2 * j - 1])
  if owner == false then unowned[#unowned + 1] = j
  elseif owner ~= ARGV[2 + 3 * j] then fenced[#fenced + 1] = -j end
end
if #fenced > 0 then return fenced end
for _, j in ipairs(unowned) do redis.call('SET', KEYS[n + 2 * j - 1], ARGV[2 + 3 * j]) end
local blob = ARGV[2]
local pos = 1
local conflicts = {}
for i = 1, n do
  local expected, value
  expected, value, pos = struct.unpack('<dI4c0', blob, pos)
  if #value > 4096 then
    local head = redis.call('GETRANGE', KEYS[i], 0, 7)
    local v = 0
    if #head >= 8 then v = struct.unpack('<d', head) end
    if v == expected then
      redis.call('SET', KEYS[i], value, 'PX', ARGV[1])
    else
      conflicts[#conflicts + 1] = i
    end
  else
    local old = redis.call('SET', KEYS[i], value, 'PX', ARGV[1], 'GET')
    local v = 0
    if old and #old >= 8 then v = struct.unpack('<d', old) end
    if v ~= expected then
      if old then redis.call('SET', KEYS[i], old, 'KEEPTTL') else redis.call('DEL', KEYS[i]) end
      conflicts[#conflicts + 1] = i
    end
  end
end
for j = 1, journals do
  redis.call('HSET', KEYS[n + 2 * j], ARGV[3 + 3 * j], ARGV[4 + 3 * j])
  redis.call('PEXPIRE', KEYS[n + 2 * j], ARGV[4])
end
return conflicts
`;

/** Takes a partition over: a new epoch fences earlier owners; replies the epoch, then the journal's fields and rows. KEYS: owner, journal. */
export const CLAIM_SCRIPT = `
local epoch = redis.call('INCR', KEYS[1])
return {epoch, redis.call('HGETALL', KEYS[2])}
`;

/**
 * Drops the journal entries whose events are all below the committed offset ARGV[1] (a field
 * ends with its highest offset). By offset, not wholesale: a release that reaches Redis late
 * (a script re-sent after NOSCRIPT) cannot take the entries of later batches with it. KEYS: journal.
 */
export const RELEASE_SCRIPT = `
local committed = tonumber(ARGV[1])
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if tonumber(string.match(field, '([0-9]+)$')) < committed then redis.call('HDEL', KEYS[1], field) end
end
return 0
`;

/** A journal entry's field: ordered by epoch then sequence (write order), ending with its highest offset. */
export function journalField(epoch: number, sequence: number, maxOffset: number): string {
  return `${epoch}:${sequence}:${maxOffset}`;
}

/** Epoch and sequence of a journal field, to put the entries back in write order. */
export function journalFieldOrder(field: string): [number, number] {
  const [epoch, sequence] = field.split(':');
  return [Number(epoch), Number(sequence)];
}

export interface CasWrites {
  /** ARGV[2] of the script. */
  blob: Buffer;
  /** Per write, in order, its encoded state (a view into the blob). */
  values: Buffer[];
}

/** ARGV[2] of the script: the states encoded straight into one buffer, each with its new version. */
export function encodeCasWrites(writes: readonly { version: number; next: number; state: EntityState; spec: StateSpec }[]): CasWrites {
  const lengths = writes.map((w) => encodedLength(w.state, w.spec));
  const blob = Buffer.allocUnsafe(lengths.reduce((a, n) => a + n + 12, 0));
  const values: Buffer[] = [];
  let at = 0;
  writes.forEach((w, i) => {
    at = blob.writeDoubleLE(w.version, at);
    at = blob.writeUInt32LE(lengths[i] as number, at);
    const start = at;
    at = writeState(w.state, w.next, w.spec, blob, at);
    values.push(blob.subarray(start, at));
  });
  return { blob, values };
}
