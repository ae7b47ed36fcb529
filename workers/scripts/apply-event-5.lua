--- Applies one event to one shopper's profile, exactly once per event id. Every key carries the
--- profile's hash tag, so this is one atomic step on one Redis Cluster slot.
---
--- KEYS[1]  profile:{u}            hash: n, n:<type>, first, last, score, score@ (its ref time)
--- KEYS[2]  profile:{u}:applied    zset: event id → receivedAt (the exactly-once marker)
--- KEYS[3]  profile:{u}:recent     zset: recent-event JSON → event time, capped
--- KEYS[4]  profile:{u}:bought     zset: item → time of last purchase
--- KEYS[5]  profile:{u}:interests  hash: <category> → value, <category>@ → its ref time
--- ARGV[1]  event id               ARGV[2]  receivedAt (ms)      ARGV[3]  event time ts (ms)
--- ARGV[4]  event type             ARGV[5]  score weight         ARGV[6]  half-life (ms)
--- ARGV[7]  category or ''         ARGV[8]  recent-event JSON    ARGV[9]  recent cap
--- ARGV[10] drop markers with receivedAt below this (ms): the log no longer holds those events
--- ARGV[11] interests cap          ARGV[12..] items bought
---
--- Returns 1 when applied, 0 when the event id was applied before (nothing changes).
---
--- Decayed sums are stored as (value at ref, ref) and added order-independently: an event
--- later than ref decays the value to the event's time first; an earlier one is decayed to ref.
--- Either way the result equals the sum of weight × 2^(-(ref - t) / half-life), whatever the order.
local id, receivedAt, ts = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if redis.call('ZSCORE', KEYS[2], id) then
  return 0
end
redis.call('ZADD', KEYS[2], receivedAt, id)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[10])

local halfLife = tonumber(ARGV[6])
local function decayedAdd(key, field, t, weight)
  local state = redis.call('HMGET', key, field, field .. '@')
  local value, ref = tonumber(state[1]), tonumber(state[2])
  if not value then
    value, ref = weight, t
  elseif t >= ref then
    value, ref = value * 2 ^ (-(t - ref) / halfLife) + weight, t
  else
    value = value + weight * 2 ^ (-(ref - t) / halfLife)
  end
  -- string.format keeps 17 significant digits; plain number → string would keep 14.
  redis.call('HSET', key, field, string.format('%.17g', value), field .. '@', ref)
end

local profile = KEYS[1]
redis.call('HINCRBY', profile, 'n', 1)
redis.call('HINCRBY', profile, 'n:' .. ARGV[4], 1)
local seen = redis.call('HMGET', profile, 'first', 'last')
if not seen[1] or ts < tonumber(seen[1]) then
  redis.call('HSET', profile, 'first', ts)
end
if not seen[2] or ts > tonumber(seen[2]) then
  redis.call('HSET', profile, 'last', ts)
end
local weight = tonumber(ARGV[5])
if weight ~= 0 then
  decayedAdd(profile, 'score', ts, weight)
end

local category = ARGV[7]
if category ~= '' and weight ~= 0 then
  decayedAdd(KEYS[5], category, ts, math.abs(weight))
  -- Two fields per category; past the cap drop the weakest by its stored value.
  local cap = tonumber(ARGV[11])
  if redis.call('HLEN', KEYS[5]) > 2 * cap then
    local all = redis.call('HGETALL', KEYS[5])
    local weakest, weakestValue
    for i = 1, #all, 2 do
      local field = all[i]
      if string.sub(field, -1) ~= '@' then
        local v = tonumber(all[i + 1])
        if weakestValue == nil or v < weakestValue then
          weakest, weakestValue = field, v
        end
      end
    end
    redis.call('HDEL', KEYS[5], weakest, weakest .. '@')
  end
end

redis.call('ZADD', KEYS[3], ts, ARGV[8])
local cap = tonumber(ARGV[9])
if redis.call('ZCARD', KEYS[3]) > cap then
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(cap + 1))
end

for i = 12, #ARGV do
  redis.call('ZADD', KEYS[4], 'GT', ts, ARGV[i])
  redis.call('HINCRBY', profile, 'purchases', 1)
end
return 1
