--- Takes one sign-in attempt for an email and a client IP, from both or from neither: each keeps
--- the times of its recent failed attempts in a sliding window, and refuses once it holds `limit`.
--- The attempt is recorded before the password is checked, so parallel guesses cannot all slip in
--- before the first failure is counted; a successful sign-in removes it again (login-limit.ts).
---
--- KEYS[1]  login:{attempts}:email:<sha256 of the email>   sorted set: attempt id → ms
--- KEYS[2]  login:{attempts}:ip:<client ip>                sorted set: attempt id → ms
--- ARGV[1]  now, epoch ms (the api's clock)     ARGV[2]  window, ms
--- ARGV[3]  email limit                         ARGV[4]  ip limit
--- ARGV[5]  attempt id (unique per attempt)
---
--- Returns { 1, 0, 0 } when taken, or { 0, retryAfterMs, which } where which is 1 (the email
--- is over its limit) or 2 (the IP is), and retryAfterMs the wait until that one admits again.
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])

local function wait(key, limit)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local n = redis.call('ZCARD', key)
  if n < limit then
    return 0
  end
  -- Admits again once all but limit - 1 of the attempts have left the window.
  local entry = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')
  return math.max(1, tonumber(entry[2]) + window - now)
end

local emailWait = wait(KEYS[1], tonumber(ARGV[3]))
if emailWait > 0 then
  return { 0, emailWait, 1 }
end
local ipWait = wait(KEYS[2], tonumber(ARGV[4]))
if ipWait > 0 then
  return { 0, ipWait, 2 }
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[5])
  redis.call('PEXPIRE', key, window)
end
return { 1, 0, 0 }
