-- The top of a weighted union of buckets, ties at the cut included, in one round trip.
-- KEYS: a scratch key, a second scratch key, then the buckets: the first ARGV[2] weigh +1
--       (the current window), the rest -1 (the window before it, for growth).
-- ARGV: k, current buckets, the lowest score wanted ("-inf", or "(0" for growth).
-- Answers {top (member, score, ...), members tied with the last of top, and, when there are
--          buckets of a window before, each candidate's current-window count}.
local k, current = tonumber(ARGV[1]), tonumber(ARGV[2])
local buckets = #KEYS - 2
local union = {'ZUNIONSTORE', KEYS[1], buckets}
for i = 1, buckets do union[#union + 1] = KEYS[2 + i] end
union[#union + 1] = 'WEIGHTS'
for i = 1, buckets do union[#union + 1] = (i <= current) and 1 or -1 end
redis.call(unpack(union))
local top = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', ARGV[3], 'WITHSCORES', 'LIMIT', 0, k)
local tied = {}
if #top == 2 * k and k > 0 then
  tied = redis.call('ZRANGEBYSCORE', KEYS[1], top[2 * k], top[2 * k])
end
local counts = {}
if current < buckets then
  local sum = {'ZUNIONSTORE', KEYS[2], current}
  for i = 1, current do sum[#sum + 1] = KEYS[2 + i] end
  redis.call(unpack(sum))
  for i = 1, #top, 2 do counts[#counts + 1] = redis.call('ZSCORE', KEYS[2], top[i]) or '0' end
  for _, member in ipairs(tied) do
    counts[#counts + 1] = redis.call('ZSCORE', KEYS[2], member) or '0'
  end
end
redis.call('DEL', KEYS[1], KEYS[2])
return {top, tied, counts}
