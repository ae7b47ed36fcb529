--- Adds one job's interactions to one trending set (site-wide or one category), relative to
--- the set's epoch, rescaling the set to a new epoch first when needed. Every key carries the
--- site's hash tag, so this is one atomic step per set. Not idempotent: recommendations are
--- at-least-once (see workers/processors/recommendations.ts).
---
--- KEYS[1]  rec:{site}:trending[:cat:<c>]  zset: item → Σ weight · 2^((t − epoch) / half-life)
--- KEYS[2]  rec:{site}:trending-epochs     hash: set field → epoch (ms)
--- KEYS[3]  rec:{site}:categories          hash: category → members of its set
--- ARGV[1]  this set's field in KEYS[2] ('all' or 'cat:<c>')
--- ARGV[2]  category, or '' for the site-wide set (KEYS[3] is then left alone)
--- ARGV[3]  half-life (ms)        ARGV[4]  rescale when t is this far past the epoch (ms)
--- ARGV[5]  members kept (N)      ARGV[6]  slack: trim to N once the set holds N + slack
--- ARGV[7]  most categories per site: a new category past it is refused
--- ARGV[8]  TTL (ms) of the set, refreshed on every write
--- ARGV[9..] item, weight, t (event time, ms), item, weight, t, …
---
--- Returns the number of members, or -1 when the category was refused (no more room).
---
--- Rescaling multiplies every member by 2^(−(new − old) / half-life) and drops members that fell
--- below 1e-6 (a single view more than about 20 half-lives old), so a set that is written to
--- keeps bounded scores and sheds what stopped selling.
if #ARGV < 11 then
  return redis.call('ZCARD', KEYS[1])
end
local set, epochs, categories = KEYS[1], KEYS[2], KEYS[3]
local field, category = ARGV[1], ARGV[2]
local halfLife, rebaseAfter = tonumber(ARGV[3]), tonumber(ARGV[4])
local cap, slack = tonumber(ARGV[5]), tonumber(ARGV[6])

if category ~= '' and redis.call('HEXISTS', categories, category) == 0
    and redis.call('HLEN', categories) >= tonumber(ARGV[7]) then
  return -1
end

local epoch = tonumber(redis.call('HGET', epochs, field))
if not epoch then
  epoch = tonumber(ARGV[11])
  redis.call('HSET', epochs, field, epoch)
end

local function rebase(to)
  local factor = 2 ^ (-(to - epoch) / halfLife)
  local members = redis.call('ZRANGE', set, 0, -1, 'WITHSCORES')
  for i = 1, #members, 2 do
    local scaled = tonumber(members[i + 1]) * factor
    if scaled < 1e-6 then
      redis.call('ZREM', set, members[i])
    else
      redis.call('ZADD', set, string.format('%.17g', scaled), members[i])
    end
  end
  epoch = to
  redis.call('HSET', epochs, field, epoch)
end

for i = 9, #ARGV, 3 do
  local t = tonumber(ARGV[i + 2])
  if t - epoch > rebaseAfter then
    rebase(t)
  end
  local score = tonumber(ARGV[i + 1]) * 2 ^ ((t - epoch) / halfLife)
  redis.call('ZINCRBY', set, string.format('%.17g', score), ARGV[i])
end

local size = redis.call('ZCARD', set)
if size > cap + slack then
  redis.call('ZREMRANGEBYRANK', set, 0, size - cap - 1)
  size = cap
end
redis.call('PEXPIRE', set, tonumber(ARGV[8]))
if category ~= '' then
  redis.call('HSET', categories, category, size)
end
return size
