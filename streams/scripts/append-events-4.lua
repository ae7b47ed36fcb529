--- Appends one request's events of one partition to the event log as a single stream entry,
--- skipping every event id already seen in the dedup window. Atomic: an id is either marked
--- seen and appended, or neither.
---
--- KEYS[1]  events:{p}             the partition's stream
--- KEYS[2]  seen:{p}:<bucket>      ids seen in the current dedup bucket
--- KEYS[3]  seen:{p}:<bucket - 1>  ids seen in the previous bucket
--- KEYS[4]  events:{p}:floor       oldest entry id a consumer group still needs (set by the
---                                 workers' trim job; absent when no group reads the stream)
--- ARGV[1]  MINID for time-based retention (epoch ms); never above the floor, so an entry still
---          pending or undelivered in a group is not trimmed however old it is
--- ARGV[2]  TTL of the current bucket in seconds (two windows)
--- ARGV[3..] pairs of event id, event JSON
---
--- Returns { entryId or "", index, index, ... }: the new entry id ("" when every event was a
--- duplicate), then the 0-based positions (among the pairs) of the duplicates.
---
--- The entry's fields are the event ids and its values the events, so one entry holds one
--- request's events of one partition, in the order sent.
local fields = {}
local duplicates = {}
for i = 3, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('SISMEMBER', KEYS[3], id) == 1 or redis.call('SADD', KEYS[2], id) == 0 then
    duplicates[#duplicates + 1] = (i - 3) / 2
  else
    fields[#fields + 1] = id
    fields[#fields + 1] = ARGV[i + 1]
  end
end
local entry = ''
if #fields > 0 then
  redis.call('EXPIRE', KEYS[2], ARGV[2])
  local minId = ARGV[1]
  local floor = redis.call('GET', KEYS[4])
  if floor then
    local floorMs = tonumber(string.match(floor, '^(%d+)'))
    if floorMs < tonumber(minId) then
      minId = floorMs
    end
  end
  entry = redis.call('XADD', KEYS[1], 'MINID', '~', minId, '*', unpack(fields))
end
return { entry, unpack(duplicates) }
