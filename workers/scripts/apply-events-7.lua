--- Applies a job's events to one shopper's profile in one atomic step, exactly once per event
--- id. Every key carries the profile's hash tag, so this is one step on one Redis Cluster slot.
--- One call per shopper per job, not per event: the profile is read once, updated in Lua and
--- written once, which costs Redis a fraction of an event-at-a-time script.
---
--- KEYS[1]  profile:{u}            hash: n, n:<type>, first, last, score, score@ (its ref time),
---                                 purchases
--- KEYS[2]  profile:{u}:applied    zset: event id → receivedAt (the exactly-once marker)
--- KEYS[3]  profile:{u}:recent     zset: recent-event JSON → event time, capped
--- KEYS[4]  profile:{u}:bought     zset: item → time of last purchase
--- KEYS[5]  profile:{u}:interests  hash: <category> → value, <category>@ → its ref time
--- KEYS[6]  profile:{u}:merged     set: profiles merged in (merge-profile-6.lua); only its TTL
--- KEYS[7]  profile:{u}:anchor     string: the audience anchor (streams/rule-facts.ts); only its TTL
--- ARGV[1]  half-life (ms)         ARGV[2]  recent cap          ARGV[3]  interests cap
--- ARGV[4]  drop markers with receivedAt below this (ms): the log no longer holds those events
--- ARGV[5]  TTL (ms) of the seven keys, refreshed by every call that applies an event: a shopper
---          gone that long leaves no memory behind (PostgreSQL keeps the last snapshot)
--- ARGV[6..] per event, in job order, 8 fields then its items bought:
---          id, receivedAt (ms), event time ts (ms), type, score weight, category or '',
---          recent-event JSON, number of items bought, item, item, …
---
--- Returns how many events were applied; the others were applied before and change nothing.
---
--- Decayed sums are stored as (value at ref, ref) and added order-independently: an event
--- later than ref decays the value to the event's time first; an earlier one is decayed to ref.
--- Either way the result equals the sum of weight × 2^(-(ref - t) / half-life), whatever the
--- order, so neither the order of events nor how they are split into jobs changes a score
--- (beyond float rounding). The interests cap is applied once per call, so past it how events
--- are split into jobs can change which categories stay: the weakest, decayed to the newest
--- reference time, are dropped.
local halfLife, recentCap, interestsCap = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local profile, applied, recent, bought, interests = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]

local ttl = ARGV[5]
local events, ids = {}, {}
local i = 6
while i <= #ARGV do
  local nBought = tonumber(ARGV[i + 7])
  events[#events + 1] = i
  ids[#ids + 1] = ARGV[i]
  i = i + 8 + nBought
end
if #events == 0 then
  return 0
end

-- The exactly-once check, for the whole batch in one command. An id twice in one batch
-- counts once, like an id applied before.
local known = redis.call('ZMSCORE', applied, unpack(ids))
local seen, fresh = {}, {}
for k, at in ipairs(events) do
  local id = ARGV[at]
  if not known[k] and not seen[id] then
    seen[id] = true
    fresh[#fresh + 1] = at
  end
end
if #fresh == 0 then
  return 0
end

local function decayed(value, ref, t, weight)
  if not value then
    return weight, t
  elseif t >= ref then
    return value * 2 ^ (-(t - ref) / halfLife) + weight, t
  end
  return value + weight * 2 ^ (-(ref - t) / halfLife), ref
end
-- Lua's unpack has a stack limit (~8,000 values); a request may hold 500 orders of 100 lines.
local function inChunks(command, key, option, args)
  for from = 1, #args, 1000 do
    local to = math.min(from + 999, #args)
    if option then
      redis.call(command, key, option, unpack(args, from, to))
    else
      redis.call(command, key, unpack(args, from, to))
    end
  end
end
-- string.format keeps 17 significant digits; plain number → string would keep 14.
local function exact(value)
  return string.format('%.17g', value)
end

local state = redis.call('HMGET', profile, 'first', 'last', 'score', 'score@')
local first, last = tonumber(state[1]), tonumber(state[2])
local score, scoreRef = tonumber(state[3]), tonumber(state[4])
local markers, entries, counts, purchases = {}, {}, {}, {}
local categories, categoryOrder = {}, {}
local boughtArgs = {}
local purchased = 0
for _, at in ipairs(fresh) do
  local ts, eventType, weight = tonumber(ARGV[at + 2]), ARGV[at + 3], tonumber(ARGV[at + 4])
  markers[#markers + 1] = ARGV[at + 1]
  markers[#markers + 1] = ARGV[at]
  entries[#entries + 1] = ts
  entries[#entries + 1] = ARGV[at + 6]
  counts[eventType] = (counts[eventType] or 0) + 1
  if not first or ts < first then first = ts end
  if not last or ts > last then last = ts end
  if weight ~= 0 then
    score, scoreRef = decayed(score, scoreRef, ts, weight)
    local category = ARGV[at + 5]
    if category ~= '' then
      if not categories[category] then
        categories[category] = {}
        categoryOrder[#categoryOrder + 1] = category
      end
      local adds = categories[category]
      adds[#adds + 1] = ts
      adds[#adds + 1] = math.abs(weight)
    end
  end
  for b = at + 8, at + 7 + tonumber(ARGV[at + 7]) do
    boughtArgs[#boughtArgs + 1] = ts
    boughtArgs[#boughtArgs + 1] = ARGV[b]
    purchased = purchased + 1
  end
end

-- The exactly-once markers first, as the first write: Redis does not roll back a script that
-- fails half-way, and a failure that repeats on every retry must not add the counts below
-- again each time. Every input that could make a later command fail is bounded (inChunks).
inChunks('ZADD', applied, nil, markers)
redis.call('ZREMRANGEBYSCORE', applied, '-inf', '(' .. ARGV[4])

redis.call('HINCRBY', profile, 'n', #fresh)
for eventType, count in pairs(counts) do
  redis.call('HINCRBY', profile, 'n:' .. eventType, count)
end
if purchased > 0 then
  redis.call('HINCRBY', profile, 'purchases', purchased)
end
local fields = { 'first', first, 'last', last }
if score then
  fields[#fields + 1] = 'score'
  fields[#fields + 1] = exact(score)
  fields[#fields + 1] = 'score@'
  fields[#fields + 1] = scoreRef
end
redis.call('HSET', profile, unpack(fields))

if #categoryOrder > 0 then
  local lookup = {}
  for _, category in ipairs(categoryOrder) do
    lookup[#lookup + 1] = category
    lookup[#lookup + 1] = category .. '@'
  end
  local stored = redis.call('HMGET', interests, unpack(lookup))
  local updates = {}
  for c, category in ipairs(categoryOrder) do
    local value, ref = tonumber(stored[2 * c - 1]), tonumber(stored[2 * c])
    local adds = categories[category]
    for a = 1, #adds, 2 do
      value, ref = decayed(value, ref, adds[a], adds[a + 1])
    end
    updates[#updates + 1] = category
    updates[#updates + 1] = exact(value)
    updates[#updates + 1] = category .. '@'
    updates[#updates + 1] = ref
  end
  redis.call('HSET', interests, unpack(updates))
  -- Two fields per category; past the cap drop the weakest, each value decayed to the newest
  -- reference time first (stored values are at different times: a year-old 10 is weaker than
  -- three views today).
  local over = redis.call('HLEN', interests) / 2 - interestsCap
  if over > 0 then
    local all = redis.call('HGETALL', interests)
    local stored, refs, newest = {}, {}, nil
    for f = 1, #all, 2 do
      local field = all[f]
      if string.sub(field, -1) == '@' then
        local ref = tonumber(all[f + 1])
        refs[string.sub(field, 1, -2)] = ref
        if not newest or ref > newest then
          newest = ref
        end
      else
        stored[field] = tonumber(all[f + 1])
      end
    end
    local values = {}
    for field, value in pairs(stored) do
      local ref = refs[field] or newest or 0
      values[#values + 1] = { field, value * 2 ^ (-((newest or ref) - ref) / halfLife) }
    end
    table.sort(values, function(x, y) return x[2] < y[2] end)
    local drop = {}
    for d = 1, math.min(over, #values) do
      drop[#drop + 1] = values[d][1]
      drop[#drop + 1] = values[d][1] .. '@'
    end
    if #drop > 0 then
      redis.call('HDEL', interests, unpack(drop))
    end
  end
end

inChunks('ZADD', recent, nil, entries)
local size = redis.call('ZCARD', recent)
if size > recentCap then
  redis.call('ZREMRANGEBYRANK', recent, 0, size - recentCap - 1)
end

inChunks('ZADD', bought, 'GT', boughtArgs)
for _, key in ipairs(KEYS) do
  redis.call('PEXPIRE', key, ttl)
end
return #fresh
