--- Gives up on one entry of a consumer group: acknowledges it and records it in the stream's
--- dead-letter stream, atomically, so an entry is never both dead-lettered and still pending,
--- nor acknowledged without a record. Idempotent: an entry no longer pending in the group
--- (acked or dead-lettered by someone else) is left alone.
---
--- KEYS[1]  the source stream (events:{p})
--- KEYS[2]  its dead-letter stream (events:{p}:dead, same hash tag and slot)
--- ARGV[1]  consumer group
--- ARGV[2]  id of the entry in the source stream
--- ARGV[3]  attempts: how many times the group delivered the entry
--- ARGV[4]  reason, for the people who will replay or discard it
--- ARGV[5]  approximate MAXLEN of the dead-letter stream (every stream is bounded)
---
--- Returns the new dead-letter entry id, or "" when the entry was not pending.
---
--- A dead-letter entry's first four pairs are source, entryId, attempts and reason; the
--- original entry's pairs follow in their order (none when the source entry was trimmed
--- meanwhile). Readers split by position, since an original field may carry any name.
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return ''
end
local record = { 'source', KEYS[1], 'entryId', ARGV[2], 'attempts', ARGV[3], 'reason', ARGV[4] }
local found = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if found[1] then
  for _, value in ipairs(found[1][2]) do
    record[#record + 1] = value
  end
end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', unpack(record))
