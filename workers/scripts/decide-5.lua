--- Takes a shopper's caps for one offer and delivers it, exactly once per decision key. Every
--- key carries the profile's hash tag, so this is one atomic step on one Redis Cluster slot:
--- two workers racing for one shopper can never both pass a cap or a cooldown.
---
--- KEYS[1]  profile:{u}:decided   zset: decision key → time (the exactly-once marker)
--- KEYS[2]  profile:{u}:offers    zset: "offerId|ruleId|version|kind|decisionKey" → decided at
--- KEYS[3]  profile:{u}:caps:<r>  zset: offer id → decided at, this rule's offers in its period
--- KEYS[4]  profile:{u}:inbox     stream: field `offer` = offer JSON (streams/offers.ts)
--- KEYS[5]  live:{u}              pub/sub channel (a key here only to name its slot)
--- ARGV[1]  decision key (event id, or event id + ":d:" + rule id for a delayed trigger)
--- ARGV[2]  now (ms)               ARGV[3]  offer id            ARGV[4]  rule id
--- ARGV[5]  rule version           ARGV[6]  per-shopper cap count (0: none)
--- ARGV[7]  cap period (ms)        ARGV[8]  cooldown (ms, 0: none)
--- ARGV[9]  kind: "d" delivered or "h" holdout (recorded and capped alike, never sent)
--- ARGV[10] offer JSON             ARGV[11] inbox max length    ARGV[12] inbox TTL (ms)
--- ARGV[13] keep offers and markers this long (ms)              ARGV[14] offers kept (count)
---
--- Returns {status, entry}: status "new" (taken; entry is the offers member), "dup" (this
--- decision key was decided before; entry is its member, or "" if it delivered nothing),
--- "cooldown" or "capped" (nothing changed).
local key, now = ARGV[1], tonumber(ARGV[2])
local keep = tonumber(ARGV[13])

if redis.call('ZSCORE', KEYS[1], key) then
  local suffix = '|' .. key
  for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    if string.sub(member, -#suffix) == suffix then
      return {'dup', member}
    end
  end
  return {'dup', ''}
end

local cooldown = tonumber(ARGV[8])
if cooldown > 0 then
  local last = redis.call('ZRANGE', KEYS[2], 0, 0, 'REV', 'WITHSCORES')
  if last[2] and now - tonumber(last[2]) < cooldown then
    return {'cooldown', ''}
  end
end

local capCount, capPeriod = tonumber(ARGV[6]), tonumber(ARGV[7])
if capCount > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. (now - capPeriod))
  if redis.call('ZCARD', KEYS[3]) >= capCount then
    return {'capped', ''}
  end
  redis.call('ZADD', KEYS[3], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[3], capPeriod)
end

redis.call('ZADD', KEYS[1], now, key)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - keep))
redis.call('PEXPIRE', KEYS[1], keep)

local member = ARGV[3] .. '|' .. ARGV[4] .. '|' .. ARGV[5] .. '|' .. ARGV[9] .. '|' .. key
redis.call('ZADD', KEYS[2], now, member)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - keep))
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[14])
if extra > 0 then
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1)
end
redis.call('PEXPIRE', KEYS[2], keep)

if ARGV[9] == 'd' then
  -- Exact MAXLEN: '~' trims only whole 100-entry nodes, so the inbox would hold ~120 offers.
  redis.call('XADD', KEYS[4], 'MAXLEN', ARGV[11], '*', 'offer', ARGV[10])
  redis.call('PEXPIRE', KEYS[4], ARGV[12])
  redis.call('PUBLISH', KEYS[5], ARGV[10])
end
return {'new', member}
