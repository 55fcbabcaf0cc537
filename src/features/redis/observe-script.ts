// The Lua script that applies a batch's events to per-entity window aggregates and
// reads them back, in one round trip. src/features/memory/memory-store.ts is the same
// algorithm in TypeScript; the two change together (test/integration/store-parity).
//
// KEYS: per entity, its aggregate hash then its seen-transactions sorted set.
// ARGV: allowedLatenessMs, ttlMs, entityCount, then per entity:
//   windowCount, (bucketMs, buckets, ringSlots) per window, eventCount,
//   (txId, timeMs, amount) per event.
// Reply: per event, in order: flag ("d" duplicate, "l" too late, "-" applied), previous
//   event time or "", then count, sum, sumSq per window. Numbers travel as %.17g strings
//   so doubles round-trip exactly (Lua's tostring keeps only 14 digits).
//
// Hash fields: `last` (latest applied event time); per window i: `w<i>:start` (first
// bucket of the running window) and `w<i>:c|s|q` (its running count, sum, sum of squares);
// per ring slot k: `b<i>:<k>:j|c|s|q` (bucket index held, count, sum, sum of squares).
// Bucket j lives in slot j mod ringSlots; a newer bucket overwrites an expired one, so an
// entity's memory is bounded by its ring sizes and no clean-up pass is needed.

export const OBSERVE_SCRIPT = `
local function fmt(x) return string.format('%.17g', x) end
local function num(v) if v then return tonumber(v) end return nil end

local L = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local nent = tonumber(ARGV[3])
local a = 4
local out = {}

-- sum of the buckets [from, to] of a window still held in its ring
local function sumBuckets(H, pre, ring, from, to)
  local c, s, q = 0, 0, 0
  if to < from then return c, s, q end
  local f = {}
  for j = from, to do
    local p = pre .. (j % ring) .. ':'
    f[#f + 1] = p .. 'j'; f[#f + 1] = p .. 'c'; f[#f + 1] = p .. 's'; f[#f + 1] = p .. 'q'
  end
  local v = redis.call('HMGET', H, unpack(f))
  local j = from
  for k = 1, #v, 4 do
    if v[k] and tonumber(v[k]) == j then
      c = c + tonumber(v[k + 1]); s = s + tonumber(v[k + 2]); q = q + tonumber(v[k + 3])
    end
    j = j + 1
  end
  return c, s, q
end

for e = 1, nent do
  local H = KEYS[2 * e - 1]
  local S = KEYS[2 * e]
  local nw = tonumber(ARGV[a]); a = a + 1
  local bms, nb, ring, wp, bp = {}, {}, {}, {}, {}
  for i = 1, nw do
    bms[i] = tonumber(ARGV[a]); nb[i] = tonumber(ARGV[a + 1]); ring[i] = tonumber(ARGV[a + 2]); a = a + 3
    wp[i] = 'w' .. i .. ':'; bp[i] = 'b' .. i .. ':'
  end
  local nev = tonumber(ARGV[a]); a = a + 1
  for k = 1, nev do
    local tx, ts, amt = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]); a = a + 3
    local fields = { 'last' }
    local b, slot = {}, {}
    for i = 1, nw do
      b[i] = math.floor(ts / bms[i])
      slot[i] = bp[i] .. (b[i] % ring[i]) .. ':'
      fields[#fields + 1] = wp[i] .. 'start'
      fields[#fields + 1] = wp[i] .. 'c'; fields[#fields + 1] = wp[i] .. 's'; fields[#fields + 1] = wp[i] .. 'q'
      fields[#fields + 1] = slot[i] .. 'j'
      fields[#fields + 1] = slot[i] .. 'c'; fields[#fields + 1] = slot[i] .. 's'; fields[#fields + 1] = slot[i] .. 'q'
    end
    local v = redis.call('HMGET', H, unpack(fields))
    local last = num(v[1])
    local tooLate = last ~= nil and ts < last - L
    local dup = redis.call('ZSCORE', S, tx) ~= false
    local apply = (not dup) and (not tooLate)
    local inOrder = last == nil or ts >= last
    local set = {}
    out[#out + 1] = dup and 'd' or (tooLate and 'l' or '-')
    out[#out + 1] = (apply and inOrder and last ~= nil) and fmt(last) or ''
    for i = 1, nw do
      local o = 2 + (i - 1) * 8
      local start = num(v[o])
      local tc, tsum, tq = num(v[o + 1]) or 0, num(v[o + 2]) or 0, num(v[o + 3]) or 0
      local rc, rs, rq
      if apply then
        local bc, bs, bq = 0, 0, 0
        if num(v[o + 4]) == b[i] then bc, bs, bq = num(v[o + 5]), num(v[o + 6]), num(v[o + 7]) end
        set[#set + 1] = slot[i] .. 'j'; set[#set + 1] = fmt(b[i])
        set[#set + 1] = slot[i] .. 'c'; set[#set + 1] = fmt(bc + 1)
        set[#set + 1] = slot[i] .. 's'; set[#set + 1] = fmt(bs + amt)
        set[#set + 1] = slot[i] .. 'q'; set[#set + 1] = fmt(bq + amt * amt)
      end
      if apply and inOrder then
        local newStart = b[i] - nb[i] + 1
        if start == nil then
          start = newStart
        elseif newStart > start then
          if newStart - start >= nb[i] then
            tc, tsum, tq = 0, 0, 0
          else
            -- buckets [start, newStart) leave the running window
            local ec, es, eq = sumBuckets(H, bp[i], ring[i], start, newStart - 1)
            tc, tsum, tq = tc - ec, tsum - es, tq - eq
            if tc <= 0 then tc, tsum, tq = 0, 0, 0 end
          end
          start = newStart
        end
        tc, tsum, tq = tc + 1, tsum + amt, tq + amt * amt
        rc, rs, rq = tc, tsum, tq
      elseif apply then
        -- in the allowed lateness: counted in its bucket, and in the running total when inside it
        if b[i] >= start then tc, tsum, tq = tc + 1, tsum + amt, tq + amt * amt end
        rc, rs, rq = sumBuckets(H, bp[i], ring[i], b[i] - nb[i] + 1, b[i])
        rc, rs, rq = rc + 1, rs + amt, rq + amt * amt
      else
        -- duplicate (already in its bucket) or too late (not applied): read only
        rc, rs, rq = sumBuckets(H, bp[i], ring[i], b[i] - nb[i] + 1, b[i])
        if tooLate and not dup then rc, rs, rq = rc + 1, rs + amt, rq + amt * amt end
      end
      if apply then
        set[#set + 1] = wp[i] .. 'start'; set[#set + 1] = fmt(start)
        set[#set + 1] = wp[i] .. 'c'; set[#set + 1] = fmt(tc)
        set[#set + 1] = wp[i] .. 's'; set[#set + 1] = fmt(tsum)
        set[#set + 1] = wp[i] .. 'q'; set[#set + 1] = fmt(tq)
      end
      out[#out + 1] = fmt(rc); out[#out + 1] = fmt(rs); out[#out + 1] = fmt(rq)
    end
    if inOrder and apply then set[#set + 1] = 'last'; set[#set + 1] = fmt(ts) end
    if #set > 0 then redis.call('HSET', H, unpack(set)) end
    if apply then redis.call('ZADD', S, ts, tx) end
  end
  local last = num(redis.call('HGET', H, 'last'))
  if last then redis.call('ZREMRANGEBYSCORE', S, '-inf', '(' .. fmt(last - L)) end
  redis.call('PEXPIRE', H, ttl)
  redis.call('PEXPIRE', S, ttl)
end
return out
`;
