// The Lua script that applies a batch's events to per-entity window aggregates and
// reads them back, in one round trip. src/features/memory/entity-state.ts is the
// same algorithm in TypeScript; the two must change together (test/unit/store-parity).
//
// KEYS: per entity, its aggregate hash then its seen-transactions sorted set.
// ARGV: allowedLatenessMs, ttlMs, entityCount, then per entity:
//   windowCount, (bucketMs, buckets) per window, eventCount, (txId, timeMs, amount) per event.
// Reply: per event, in order: flag ("d" duplicate, "l" too late, "-" applied), previous
//   event time or "", then count, sum, sumSq per window. Numbers travel as %.17g strings
//   so doubles round-trip exactly (Lua's tostring keeps only 14 digits).
//
// Hash fields: `last` (latest applied event time); per window i: `w<i>:start` (first
// bucket of the running window), `w<i>:c|s|q` (running count, sum, sum of squares),
// `w<i>:gc` (first bucket not yet deleted); per bucket j: `b<i>:<j>:c|s|q`.

export const OBSERVE_SCRIPT = `
local function fmt(x) return string.format('%.17g', x) end
local function num(v) if v then return tonumber(v) end return nil end

local L = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local nent = tonumber(ARGV[3])
local a = 4
local out = {}

-- sum of buckets [from, to] of window i
local function sumBuckets(H, i, from, to)
  local c, s, q = 0, 0, 0
  local f = {}
  for j = from, to do
    local p = 'b' .. i .. ':' .. j .. ':'
    f[#f + 1] = p .. 'c'; f[#f + 1] = p .. 's'; f[#f + 1] = p .. 'q'
  end
  local v = redis.call('HMGET', H, unpack(f))
  for k = 1, #v, 3 do
    if v[k] then
      c = c + tonumber(v[k]); s = s + tonumber(v[k + 1]); q = q + tonumber(v[k + 2])
    end
  end
  return c, s, q
end

for e = 1, nent do
  local H = KEYS[2 * e - 1]
  local S = KEYS[2 * e]
  local nw = tonumber(ARGV[a]); a = a + 1
  local bms, nb = {}, {}
  for i = 1, nw do
    bms[i] = tonumber(ARGV[a]); nb[i] = tonumber(ARGV[a + 1]); a = a + 2
  end
  local nev = tonumber(ARGV[a]); a = a + 1
  for k = 1, nev do
    local tx, ts, amt = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]); a = a + 3
    local fields = { 'last' }
    local b = {}
    for i = 1, nw do
      b[i] = math.floor(ts / bms[i])
      local p = 'w' .. i .. ':'
      local q = 'b' .. i .. ':' .. b[i] .. ':'
      fields[#fields + 1] = p .. 'start'; fields[#fields + 1] = p .. 'gc'
      fields[#fields + 1] = p .. 'c'; fields[#fields + 1] = p .. 's'; fields[#fields + 1] = p .. 'q'
      fields[#fields + 1] = q .. 'c'; fields[#fields + 1] = q .. 's'; fields[#fields + 1] = q .. 'q'
    end
    local v = redis.call('HMGET', H, unpack(fields))
    local last = num(v[1])
    local tooLate = last ~= nil and ts < last - L
    local dup = redis.call('ZSCORE', S, tx) ~= false
    local apply = (not dup) and (not tooLate)
    local inOrder = last == nil or ts >= last
    local set, del = {}, {}
    out[#out + 1] = dup and 'd' or (tooLate and 'l' or '-')
    out[#out + 1] = (apply and inOrder and last ~= nil) and fmt(last) or ''
    for i = 1, nw do
      local o = 2 + (i - 1) * 8
      local p = 'w' .. i .. ':'
      local q = 'b' .. i .. ':' .. b[i] .. ':'
      local start, gc = num(v[o]), num(v[o + 1])
      local tc, tsum, tq = num(v[o + 2]) or 0, num(v[o + 3]) or 0, num(v[o + 4]) or 0
      if apply then
        set[#set + 1] = q .. 'c'; set[#set + 1] = fmt((num(v[o + 5]) or 0) + 1)
        set[#set + 1] = q .. 's'; set[#set + 1] = fmt((num(v[o + 6]) or 0) + amt)
        set[#set + 1] = q .. 'q'; set[#set + 1] = fmt((num(v[o + 7]) or 0) + amt * amt)
      end
      local rc, rs, rq
      if apply and inOrder then
        local newStart = b[i] - nb[i] + 1
        if start == nil then
          start, gc = newStart, newStart
        elseif newStart > start then
          -- buckets [start, newStart) leave the running window
          local ec, es, eq = sumBuckets(H, i, start, math.min(newStart - 1, start + nb[i] - 1))
          tc, tsum, tq = tc - ec, tsum - es, tq - eq
          if newStart - start >= nb[i] or tc <= 0 then tc, tsum, tq = 0, 0, 0 end
          -- delete the buckets no event within the allowed lateness can still need
          local keepFrom = math.floor((ts - L) / bms[i]) - nb[i] + 1
          for j = gc, math.min(keepFrom - 1, start + nb[i] - 1) do
            local r = 'b' .. i .. ':' .. j .. ':'
            del[#del + 1] = r .. 'c'; del[#del + 1] = r .. 's'; del[#del + 1] = r .. 'q'
          end
          if keepFrom > gc then gc = keepFrom end
          start = newStart
        end
        tc, tsum, tq = tc + 1, tsum + amt, tq + amt * amt
        rc, rs, rq = tc, tsum, tq
      elseif apply then
        -- in the allowed lateness: counted in its bucket, and in the running total when inside it
        if b[i] >= start then tc, tsum, tq = tc + 1, tsum + amt, tq + amt * amt end
        rc, rs, rq = sumBuckets(H, i, b[i] - nb[i] + 1, b[i])
        rc, rs, rq = rc + 1, rs + amt, rq + amt * amt
      else
        -- duplicate (already in its bucket) or too late (not applied): read only
        rc, rs, rq = sumBuckets(H, i, b[i] - nb[i] + 1, b[i])
        if tooLate and not dup then rc, rs, rq = rc + 1, rs + amt, rq + amt * amt end
      end
      if apply then
        set[#set + 1] = p .. 'start'; set[#set + 1] = fmt(start)
        set[#set + 1] = p .. 'gc'; set[#set + 1] = fmt(gc)
        set[#set + 1] = p .. 'c'; set[#set + 1] = fmt(tc)
        set[#set + 1] = p .. 's'; set[#set + 1] = fmt(tsum)
        set[#set + 1] = p .. 'q'; set[#set + 1] = fmt(tq)
      end
      out[#out + 1] = fmt(rc); out[#out + 1] = fmt(rs); out[#out + 1] = fmt(rq)
    end
    if inOrder and apply then set[#set + 1] = 'last'; set[#set + 1] = fmt(ts) end
    for d = 1, #del, 3000 do redis.call('HDEL', H, unpack(del, d, math.min(d + 2999, #del))) end
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
