--- Takes one sign-in attempt for an email from a client address, counted three ways, from all
--- or from none: each key keeps the times of its recent failed attempts in a sliding window and
--- refuses once it holds its limit. The attempt is recorded before the password is checked, so
--- parallel guesses cannot all slip in before the first failure is counted; a successful sign-in
--- removes it again (login-limit.ts).
---
--- KEYS[1]  login:{attempts}:email:<sha256 of the email>:from:<address>  one email, one address
--- KEYS[2]  login:{attempts}:email:<sha256 of the email>                 one email, any address
--- KEYS[3]  login:{attempts}:ip:<address>                                one address, any email
---          (sorted sets: attempt id → ms)
--- ARGV[1]  now, epoch ms (the api's clock)     ARGV[2]  window, ms
--- ARGV[3..5] the three limits, in KEYS order  ARGV[6]  attempt id (unique per attempt)
---
--- Returns { 1, 0, 0 } when taken, or { 0, retryAfterMs, which } where which is the index of the
--- key over its limit, and retryAfterMs the wait until that one admits again.
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

for k = 1, #KEYS do
  local ms = wait(KEYS[k], tonumber(ARGV[2 + k]))
  if ms > 0 then
    return { 0, ms, k }
  end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[6])
  redis.call('PEXPIRE', key, window)
end
return { 1, 0, 0 }
