--- Decays one trending set to `now` and prunes what faded, when its epoch is older than
--- `minAge`: the periodic counterpart of the rescale trending-sets.lua does on write, so a set
--- nobody writes to still forgets and shrinks. Atomic per set (the set and its epoch share
--- the site's hash tag).
---
--- KEYS[1]  rec:{site}:trending[:cat:<c>]  zset: item → Σ weight · 2^((t − epoch) / half-life)
--- KEYS[2]  rec:{site}:trending-epochs     hash: set field → epoch (ms)
--- ARGV[1]  this set's field in KEYS[2]    ARGV[2]  half-life (ms)
--- ARGV[3]  now (ms)                       ARGV[4]  rebase only when now − epoch > this (ms)
---
--- Returns the number of members dropped, or -1 when the set was not due.
local epoch = tonumber(redis.call('HGET', KEYS[2], ARGV[1]))
local now, halfLife = tonumber(ARGV[3]), tonumber(ARGV[2])
if not epoch or now - epoch <= tonumber(ARGV[4]) then
  return -1
end
local factor = 2 ^ (-(now - epoch) / halfLife)
local members = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local dropped = 0
for i = 1, #members, 2 do
  local scaled = tonumber(members[i + 1]) * factor
  if scaled < 1e-6 then
    redis.call('ZREM', KEYS[1], members[i])
    dropped = dropped + 1
  else
    redis.call('ZADD', KEYS[1], string.format('%.17g', scaled), members[i])
  end
end
redis.call('HSET', KEYS[2], ARGV[1], now)
return dropped
