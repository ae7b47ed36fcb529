--- Delivers one offer to one shopper: appends it to the profile's inbox (capped, expiring) and
--- publishes the same JSON on the profile's live channel, atomically. One script call instead
--- of MULTI/XADD/PEXPIRE/PUBLISH/EXEC: a fifth of the round-trip parsing on both sides.
---
--- KEYS[1]  profile:{u}:inbox   the inbox stream
--- KEYS[2]  live:{u}            the pub/sub channel (declared as a key: same slot, so the
---                              script may SPUBLISH it on Redis Cluster)
--- ARGV[1]  inbox length cap (exact MAXLEN)
--- ARGV[2]  stream field name
--- ARGV[3]  the offer JSON
--- ARGV[4]  inbox TTL in ms
---
--- Returns the new inbox entry id.
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], '*', ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', KEYS[2], ARGV[3])
return id
