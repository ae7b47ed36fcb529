--- Merges an anonymous shopper's profile into a proven user's, exactly once per pair. The
--- anonymous profile lives in another slot, so the caller reads it first and passes it here
--- as JSON; what makes the merge happen once is the marker set in the user's slot.
---
--- KEYS[1..5]  the user's profile, applied, recent, bought and interests keys (see apply-events-7)
--- KEYS[6]     profile:{user}:merged  set of profile keys already merged in
--- ARGV[1]     the anonymous profile key
--- ARGV[2]     JSON { profile = {field = value}, interests = {field = value},
---                    recent = {{json, ts}, …}, bought = {{item, ts}, …} }
--- ARGV[3]     half-life (ms)   ARGV[4]  recent cap
--- ARGV[5]     TTL (ms) of the six keys, as apply-events-7.lua sets it (the merge may create
---             the user's keys, and may be the user's last write)
---
--- Returns 1 when merged, 0 when this anonymous profile was merged before.
--- Counts add up, first/last take min/max, decayed sums (score, interests) add as decayed sums,
--- recent and bought take the union. The result is the same whichever profile had more history.
if redis.call('SADD', KEYS[6], ARGV[1]) == 0 then
  return 0
end
local anon = cjson.decode(ARGV[2])
local halfLife = tonumber(ARGV[3])

local function mergeDecayed(key, field, value, ref)
  local state = redis.call('HMGET', key, field, field .. '@')
  local mine, myRef = tonumber(state[1]), tonumber(state[2])
  if mine then
    local top = math.max(ref, myRef)
    value = mine * 2 ^ (-(top - myRef) / halfLife) + value * 2 ^ (-(top - ref) / halfLife)
    ref = top
  end
  redis.call('HSET', key, field, string.format('%.17g', value), field .. '@', ref)
end

local profile = KEYS[1]
for field, value in pairs(anon.profile) do
  if field == 'n' or field == 'purchases' or string.sub(field, 1, 2) == 'n:' then
    redis.call('HINCRBY', profile, field, value)
  elseif field == 'first' then
    local mine = tonumber(redis.call('HGET', profile, 'first'))
    if not mine or tonumber(value) < mine then
      redis.call('HSET', profile, 'first', value)
    end
  elseif field == 'last' then
    local mine = tonumber(redis.call('HGET', profile, 'last'))
    if not mine or tonumber(value) > mine then
      redis.call('HSET', profile, 'last', value)
    end
  elseif field == 'score' then
    mergeDecayed(profile, 'score', tonumber(value), tonumber(anon.profile['score@']))
  end
end
for field, value in pairs(anon.interests) do
  if string.sub(field, -1) ~= '@' then
    mergeDecayed(KEYS[5], field, tonumber(value), tonumber(anon.interests[field .. '@']))
  end
end
for _, pair in ipairs(anon.recent) do
  redis.call('ZADD', KEYS[3], pair[2], pair[1])
end
local cap = tonumber(ARGV[4])
if redis.call('ZCARD', KEYS[3]) > cap then
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(cap + 1))
end
for _, pair in ipairs(anon.bought) do
  redis.call('ZADD', KEYS[4], 'GT', pair[2], pair[1])
end
for _, key in ipairs(KEYS) do
  redis.call('PEXPIRE', key, ARGV[5])
end
return 1
