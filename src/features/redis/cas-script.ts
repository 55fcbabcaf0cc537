// Compare-and-set of entity states: each key is written only if its stored version is the
// one the worker read, so concurrent workers never lose each other's updates.
// KEYS: entity keys. ARGV[1]: ttlMs. ARGV[2]: per key, a little-endian double (the expected
// version; 0 for none) then a uint32 length and the new value, whose first 8 bytes are its
// new version. One binary argument: ioredis spends about a microsecond per argument.
// Reply: the 1-based indexes of the keys whose version had changed (not written).
export const CAS_SCRIPT = `
local blob = ARGV[2]
local pos = 1
local conflicts = {}
for i = 1, #KEYS do
  local expected, value
  expected, value, pos = struct.unpack('<dI4c0', blob, pos)
  local cur = redis.call('GETRANGE', KEYS[i], 0, 7)
  local v = 0
  if #cur == 8 then v = struct.unpack('<d', cur) end
  if v == expected then
    redis.call('SET', KEYS[i], value, 'PX', ARGV[1])
  else
    conflicts[#conflicts + 1] = i
  end
end
return conflicts
`;

/** ARGV[2] of the script. */
export function encodeCasWrites(writes: readonly { version: number; value: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  for (const w of writes) {
    const head = Buffer.allocUnsafe(12);
    head.writeDoubleLE(w.version, 0);
    head.writeUInt32LE(w.value.length, 8);
    parts.push(head, w.value);
  }
  return Buffer.concat(parts);
}
