--- Takes or gives back one unit of a rule's total budget, once per decision. The budget lives
--- in the rule's own slot, not the shopper's, so it cannot join decide-5.lua: the caller takes
--- a unit first and gives it back when the shopper's caps refuse. Between the two another
--- worker may be refused a unit that is about to come back: a budget can end slightly under-
--- spent in a race, never over-spent.
---
--- KEYS[1]  budget:{<rule>}  hash: taken = units out, d:<decision key> = 1 per unit
--- ARGV[1]  decision key     ARGV[2]  budget         ARGV[3]  "take" or "refund"
---
--- Returns 1 when the unit is (or already was) taken / was given back, 0 when the budget is spent.
local field = 'd:' .. ARGV[1]
if ARGV[3] == 'refund' then
  if redis.call('HDEL', KEYS[1], field) == 1 then
    redis.call('HINCRBY', KEYS[1], 'taken', -1)
  end
  return 1
end
if redis.call('HEXISTS', KEYS[1], field) == 1 then
  return 1
end
if tonumber(redis.call('HGET', KEYS[1], 'taken') or '0') >= tonumber(ARGV[2]) then
  return 0
end
redis.call('HINCRBY', KEYS[1], 'taken', 1)
redis.call('HSET', KEYS[1], field, 1)
return 1
