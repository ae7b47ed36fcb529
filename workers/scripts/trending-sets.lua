--- Adds one job's interactions to a site's trending sets (site-wide and per category), each
--- relative to its epoch, rescaling a set to a new epoch first when needed. Every key carries
--- the site's hash tag, so this is one atomic step, one call per site and job. Not idempotent:
--- recommendations are at-least-once (see workers/processors/recommendations.ts).
---
--- KEYS[1]  rec:{site}:trending-epochs     hash: set field → epoch (ms)
--- KEYS[2]  rec:{site}:categories          hash: category → members of its set
--- KEYS[3..] rec:{site}:trending[:cat:<c>] zset: item → Σ weight · 2^((t − epoch) / half-life)
--- ARGV[1]  half-life (ms)        ARGV[2]  rescale when t is this far past the epoch (ms)
--- ARGV[3]  members kept (N)      ARGV[4]  slack: trim to N once the set holds N + slack
--- ARGV[5]  most categories per site: a new category past it is refused (left untouched)
--- ARGV[6]  TTL (ms) of a set, refreshed on every write
--- ARGV[7..] per set, in KEYS order: its field in KEYS[1] ('all' or 'cat:<c>'), its category
---           ('' for the site-wide set, whose size is not recorded in KEYS[2]), the number of
---           increments k, then k × (item, weight, t (event time, ms))
---
--- Returns each set's number of members, in KEYS order, -1 for a refused category.
---
--- Rescaling multiplies every member by 2^(−(new − old) / half-life) and drops members that fell
--- below 1e-6 (a single view more than about 20 half-lives old), so a set that is written to
--- keeps bounded scores and sheds what stopped selling.
local epochs, categories = KEYS[1], KEYS[2]
local halfLife, rebaseAfter = tonumber(ARGV[1]), tonumber(ARGV[2])
local cap, slack = tonumber(ARGV[3]), tonumber(ARGV[4])
local maxCategories, ttl = tonumber(ARGV[5]), tonumber(ARGV[6])

local sets, fields = {}, {}
local at = 7
for k = 3, #KEYS do
  local count = tonumber(ARGV[at + 2])
  sets[#sets + 1] = { key = KEYS[k], field = ARGV[at], category = ARGV[at + 1], from = at + 3,
    count = count }
  fields[#fields + 1] = ARGV[at]
  at = at + 3 + 3 * count
end
if #sets == 0 then
  return {}
end
local stored = redis.call('HMGET', epochs, unpack(fields))
local names = {}
for _, set in ipairs(sets) do
  if set.category ~= '' then
    names[#names + 1] = set.category
  end
end
local present = {}
if #names > 0 then
  local counts = redis.call('HMGET', categories, unpack(names))
  for n, name in ipairs(names) do
    present[name] = counts[n] ~= false
  end
end
local known = 0
local sizes = {}
local categorySizes = {}

for s, set in ipairs(sets) do
  local refused = false
  if set.category ~= '' and not present[set.category] then
    if known == 0 then
      known = redis.call('HLEN', categories)
    end
    refused = known >= maxCategories
    if not refused then
      -- Counted now so that one call cannot open more categories than the limit allows.
      known = known + 1
      redis.call('HSET', categories, set.category, 0)
    end
  end
  if refused then
    sizes[s] = -1
  else
    local epoch = tonumber(stored[s])
    if not epoch then
      epoch = tonumber(ARGV[set.from + 2])
      redis.call('HSET', epochs, set.field, epoch)
    end
    local function rebase(to)
      local factor = 2 ^ (-(to - epoch) / halfLife)
      local members = redis.call('ZRANGE', set.key, 0, -1, 'WITHSCORES')
      for i = 1, #members, 2 do
        local scaled = tonumber(members[i + 1]) * factor
        if scaled < 1e-6 then
          redis.call('ZREM', set.key, members[i])
        else
          redis.call('ZADD', set.key, string.format('%.17g', scaled), members[i])
        end
      end
      epoch = to
      redis.call('HSET', epochs, set.field, epoch)
    end
    for i = set.from, set.from + 3 * (set.count - 1), 3 do
      local t = tonumber(ARGV[i + 2])
      if t - epoch > rebaseAfter then
        rebase(t)
      end
      local score = tonumber(ARGV[i + 1]) * 2 ^ ((t - epoch) / halfLife)
      redis.call('ZINCRBY', set.key, string.format('%.17g', score), ARGV[i])
    end
    local size = redis.call('ZCARD', set.key)
    if size > cap + slack then
      redis.call('ZREMRANGEBYRANK', set.key, 0, size - cap - 1)
      size = cap
    end
    redis.call('PEXPIRE', set.key, ttl)
    sizes[s] = size
    if set.category ~= '' then
      categorySizes[#categorySizes + 1] = set.category
      categorySizes[#categorySizes + 1] = size
    end
  end
end
if #categorySizes > 0 then
  redis.call('HSET', categories, unpack(categorySizes))
end
return sizes
