// The Lua script that applies a batch's events to per-entity window aggregates and
// reads them back, in one round trip. src/features/memory/memory-store.ts is the same
// algorithm in TypeScript; the two change together (test/integration/store-parity).
//
// KEYS: one string key per entity holding its whole state (layout below).
// ARGV[1]: a little-endian binary blob (src/features/redis/observe-args.ts writes it):
//   L (allowed lateness ms), ttl ms, dedupe bucket ms, dedupe ring slots, kind count,
//   per kind: window count, then (bucket ms, buckets, ring slots) per window;
//   entity count, per entity: kind index, event count, then per event:
//   txId (uint32 length + bytes), event time ms, amount. Numbers are doubles.
// Reply: one binary string per entity: per event, doubles
//   flags (0 applied, 1 duplicate, 2 too late; +4 when a previous event time follows),
//   the previous event time (0 when none), then count, sum, sumSq per window.
//
// State value: uint32 n, then n doubles: last applied event time (NaN: none), then per
// window start bucket (NaN: none yet), count, sum, sumSq of its running total, then ring entries of five
// doubles: window * 2^20 + slot, bucket index, count, sum, sumSq. Then uint32 m and m
// dedupe slots: slot (double), dedupe bucket (double), and the transaction ids applied in
// it as one "\n"-separated string (uint32 length + bytes).
// Bucket j lives in ring slot j mod ringSlots, so a newer bucket overwrites an expired one
// and an entity's state stays bounded with no clean-up pass. One GET and one SET per
// entity and batch; the state is decoded with a single struct call and updated in place, because in Redis's
// Lua every command and every C call costs about a microsecond on this kind of machine
// (MessagePack took 15 µs to decode and encode a 250-byte state).

export const OBSERVE_SCRIPT = `
local unpackS, packS = struct.unpack, struct.pack
local blob = ARGV[1]
local pos = 1
local function num() local v; v, pos = unpackS('<d', blob, pos); return v end
local function str() local v; v, pos = unpackS('<I4c0', blob, pos); return v end

local L, ttl, dedupeMs, dedupeRing = num(), num(), num(), num()
local kinds = {}
for kk = 1, num() do
  local kind = { n = num(), bms = {}, nb = {}, ring = {} }
  for i = 1, kind.n do kind.bms[i] = num(); kind.nb[i] = num(); kind.ring[i] = num() end
  kind.fmt = '<dd' .. string.rep('ddd', kind.n)
  kinds[kk] = kind
end

local fmts = {}
local function fmtFor(n)
  local f = fmts[n]
  if not f then f = '<' .. string.rep('d', n); fmts[n] = f end
  return f
end
local SLOT = 1048576
local NaN = 0 / 0

-- The state is worked on as its flat array of doubles F, updated in place:
-- F[1] last, F[4i-2 .. 4i+1] window i, then ring entries; idx maps an entry key to its offset.
local F, idx, X

local function decode(raw, nw)
  idx, X = {}, {}
  if not raw then
    F = { NaN }
    for _ = 1, nw do F[#F + 1] = NaN; F[#F + 1] = 0; F[#F + 1] = 0; F[#F + 1] = 0 end
    return
  end
  local n, p = unpackS('<I4', raw)
  F = { unpackS(fmtFor(n), raw, p) }
  p = F[n + 1]
  F[n + 1] = nil
  for o = 2 + nw * 4, n, 5 do idx[F[o]] = o end
  local m
  m, p = unpackS('<I4', raw, p)
  for _ = 1, m do
    local slot, d, ids
    slot, d, ids, p = unpackS('<ddI4c0', raw, p)
    X[slot] = { d, ids }
  end
end

local function encode()
  local parts = { packS('<I4', #F), packS(fmtFor(#F), unpack(F)) }
  local m = 0
  for _ in pairs(X) do m = m + 1 end
  parts[#parts + 1] = packS('<I4', m)
  for slot, x in pairs(X) do parts[#parts + 1] = packS('<ddI4', slot, x[1], #x[2]) .. x[2] end
  return table.concat(parts)
end

local function sumBuckets(i, ring, from, to)
  local c, s, q = 0, 0, 0
  local base = i * SLOT
  for j = from, to do
    local o = idx[base + j % ring]
    if o and F[o + 1] == j then c = c + F[o + 2]; s = s + F[o + 3]; q = q + F[o + 4] end
  end
  return c, s, q
end

local replies = {}
for e = 1, num() do
  local key = KEYS[e]
  local kind = kinds[num() + 1]
  local nw, bms, nb, ring = kind.n, kind.bms, kind.nb, kind.ring
  decode(redis.call('GET', key), nw)
  local changed = false
  local out = {}
  for k = 1, num() do
    local tx, ts, amt = str(), num(), num()
    local last = F[1]
    if last ~= last then last = nil end
    local d = math.floor(ts / dedupeMs)
    local dslot = d % dedupeRing
    local seen = X[dslot]
    local tooLate = last ~= nil and ts < last - L
    local dup = (not tooLate) and seen ~= nil and seen[1] == d and string.find(seen[2], '\\n' .. tx .. '\\n', 1, true) ~= nil
    local apply = (not dup) and (not tooLate)
    local inOrder = last == nil or ts >= last
    local hasPrev = apply and inOrder and last ~= nil
    local vals = { (dup and 1 or (tooLate and 2 or 0)) + (hasPrev and 4 or 0), hasPrev and last or 0 }
    for i = 1, nw do
      local rg = ring[i]
      local bj = math.floor(ts / bms[i])
      local rc, rs, rq
      if not apply then
        -- too late (read, plus itself) or a duplicate (already in its bucket): not applied
        rc, rs, rq = sumBuckets(i, rg, bj - nb[i] + 1, bj)
        if tooLate then rc, rs, rq = rc + 1, rs + amt, rq + amt * amt end
      else
        local ekey = i * SLOT + bj % rg
        local eo = idx[ekey]
        local bc, bsum, bq = 0, 0, 0
        if eo and F[eo + 1] == bj then bc, bsum, bq = F[eo + 2], F[eo + 3], F[eo + 4] end
        local wo = 4 * i - 2
        local start, tc, tsum, tq = F[wo], F[wo + 1], F[wo + 2], F[wo + 3]
        if inOrder then
          local newStart = bj - nb[i] + 1
          if start ~= start then
            start = newStart
          elseif newStart > start then
            if newStart - start >= nb[i] then
              tc, tsum, tq = 0, 0, 0
            else
              -- buckets [start, newStart) leave the running window
              local ec, es, eq = sumBuckets(i, rg, start, newStart - 1)
              tc, tsum, tq = tc - ec, tsum - es, tq - eq
              if tc <= 0 then tc, tsum, tq = 0, 0, 0 end
            end
            start = newStart
          end
          tc, tsum, tq = tc + 1, tsum + amt, tq + amt * amt
          rc, rs, rq = tc, tsum, tq
        else
          -- in the allowed lateness: counted in its bucket, and in the running total when inside it
          if bj >= start then tc, tsum, tq = tc + 1, tsum + amt, tq + amt * amt end
          rc, rs, rq = sumBuckets(i, rg, bj - nb[i] + 1, bj)
          rc, rs, rq = rc + 1, rs + amt, rq + amt * amt
        end
        F[wo], F[wo + 1], F[wo + 2], F[wo + 3] = start, tc, tsum, tq
        if not eo then
          eo = #F + 1
          F[eo] = ekey
          idx[ekey] = eo
        end
        F[eo + 1], F[eo + 2], F[eo + 3], F[eo + 4] = bj, bc + 1, bsum + amt, bq + amt * amt
      end
      vals[#vals + 1] = rc; vals[#vals + 1] = rs; vals[#vals + 1] = rq
    end
    if apply then
      changed = true
      if inOrder then F[1] = ts end
      if seen and seen[1] == d then seen[2] = seen[2] .. tx .. '\\n' else X[dslot] = { d, '\\n' .. tx .. '\\n' } end
    end
    out[k] = packS(kind.fmt, unpack(vals))
  end
  if changed then redis.call('SET', key, encode(), 'PX', ttl) end
  replies[e] = table.concat(out)
end
return replies
`;
