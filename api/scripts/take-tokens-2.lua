--- Takes `cost` tokens from two token buckets at once (the site's and the client IP's), or
--- from neither. Buckets refill continuously at `rate` tokens per second up to `burst`.
---
--- KEYS[1]  rate:{site}             the site-wide bucket
--- KEYS[2]  rate:{site}:ip:<ip>     the client IP's bucket within that site
--- ARGV[1]  now, epoch ms (the api's clock)
--- ARGV[2]  cost (events in the request, at least 1); capped at each bucket's burst
--- ARGV[3]  site rate per second     ARGV[4]  site burst
--- ARGV[5]  ip rate per second       ARGV[6]  ip burst (0 = no per-IP limit for this call)
---
--- Returns { 1, 0 } when taken, or { 0, retryAfterMs } with the wait until both could give.
--- Buckets are hashes { t = tokens, ts = ms of last update } that expire once they would be full.
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])

local function level(key, rate, burst)
  local state = redis.call('HMGET', key, 't', 'ts')
  local tokens = tonumber(state[1]) or burst
  local ts = tonumber(state[2]) or now
  if now > ts then
    tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
  end
  return tokens
end

local function wait(tokens, need, rate)
  if tokens >= need then
    return 0
  end
  return math.ceil((need - tokens) * 1000 / rate)
end

local siteRate, siteBurst = tonumber(ARGV[3]), tonumber(ARGV[4])
local ipRate, ipBurst = tonumber(ARGV[5]), tonumber(ARGV[6])
local siteNeed = math.min(cost, siteBurst)
local siteTokens = level(KEYS[1], siteRate, siteBurst)
local retry = wait(siteTokens, siteNeed, siteRate)

local ipNeed, ipTokens = 0, 0
if ipBurst > 0 then
  ipNeed = math.min(cost, ipBurst)
  ipTokens = level(KEYS[2], ipRate, ipBurst)
  retry = math.max(retry, wait(ipTokens, ipNeed, ipRate))
end
if retry > 0 then
  return { 0, retry }
end

redis.call('HSET', KEYS[1], 't', siteTokens - siteNeed, 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(siteBurst * 1000 / siteRate) + 1000)
if ipBurst > 0 then
  redis.call('HSET', KEYS[2], 't', ipTokens - ipNeed, 'ts', now)
  redis.call('PEXPIRE', KEYS[2], math.ceil(ipBurst * 1000 / ipRate) + 1000)
end
return { 1, 0 }
