--- Adds one job's co-occurrence and popularity for one item, in the item's own slot. Not
--- idempotent: recommendations are at-least-once (see workers/processors/recommendations.ts).
---
--- KEYS[1]  rec:{site:item}:co    zset: neighbour → Σ pair weight / √n_neighbour, top-N
--- KEYS[2]  rec:{site:item}:item  hash: n → the item's total interaction weight
--- ARGV[1]  TTL (ms), refreshed on both keys so items nobody touches any more vanish
--- ARGV[2]  increment of n (0 when the item only gained neighbours)
--- ARGV[3]  neighbours kept (N)   ARGV[4]  slack: trim to N once the set holds N + slack
--- ARGV[5..] neighbour, increment, neighbour, increment, …
---
--- Returns the item's weight n after the increment, as a string ('0' when it has none).
---
--- Trimming drops the weakest; doing it only past N + slack keeps the cost amortised, so most
--- calls never trim and the set never holds more than N + slack members.
local ttl = tonumber(ARGV[1])
local increment = tonumber(ARGV[2])
local n
if increment ~= 0 then
  n = redis.call('HINCRBYFLOAT', KEYS[2], 'n', increment)
else
  n = redis.call('HGET', KEYS[2], 'n') or '0'
end
for i = 5, #ARGV, 2 do
  redis.call('ZINCRBY', KEYS[1], ARGV[i + 1], ARGV[i])
end
local cap, slack = tonumber(ARGV[3]), tonumber(ARGV[4])
local size = redis.call('ZCARD', KEYS[1])
if size > cap + slack then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, size - cap - 1)
end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return n
