--- Replaces one shopper's personal recommendations in one atomic step, so a reader sees the
--- old list or the new one, never an empty or half-written one.
---
--- KEYS[1]  profile:{u}:recs  zset: item → personal score
--- ARGV[1]  TTL (ms): a shopper who stops coming back stops costing memory
--- ARGV[2..] score, item, score, item, … (ZADD order)
---
--- Returns the number of items stored.
redis.call('DEL', KEYS[1])
if #ARGV < 3 then
  return 0
end
local n = redis.call('ZADD', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return n
