--- Reads what the recommendations step needs of one shopper in one command instead of three
--- (every key carries the profile's hash tag). Read-only.
---
--- KEYS[1]  profile:{u}:recent     zset: recent-event JSON → event time
--- KEYS[2]  profile:{u}:bought     zset: item → time of last purchase
--- KEYS[3]  profile:{u}:interests  hash: <category> → value, <category>@ → its ref time
--- ARGV[1]  recent entries to read (newest first)   ARGV[2]  purchases to read (newest first)
---
--- Returns { recent JSON…newest first }, { item, time, item, time, … }, { field, value, … }.
return {
  redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1),
  redis.call('ZREVRANGE', KEYS[2], 0, tonumber(ARGV[2]) - 1, 'WITHSCORES'),
  redis.call('HGETALL', KEYS[3]),
}
