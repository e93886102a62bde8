-- Count one post's hashtags once, atomically.
-- KEYS: the post's mark, then ARGV[2] time buckets, ARGV[3] all-time totals, then one
--       co-occurrence key per hashtag of the first ones (up to the cap), in hashtag order.
-- ARGV: mark TTL (s), buckets, totals, hashtags, then one EXPIREAT per bucket, then the
--       hashtags.
-- Answers 1 when counted, 0 when the post was counted before.
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return 0
end
local buckets, totals, count = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local tags = {}
for i = 1, count do
  tags[i] = ARGV[4 + buckets + i]
end
for b = 1, buckets do
  local key = KEYS[1 + b]
  for _, tag in ipairs(tags) do
    redis.call('ZINCRBY', key, 1, tag)
  end
  redis.call('EXPIREAT', key, ARGV[4 + b])
end
for t = 1, totals do
  local key = KEYS[1 + buckets + t]
  for _, tag in ipairs(tags) do
    redis.call('ZINCRBY', key, 1, tag)
  end
end
local paired = #KEYS - 1 - buckets - totals
for i = 1, paired do
  local key = KEYS[1 + buckets + totals + i]
  for j = 1, paired do
    if j ~= i then
      redis.call('ZINCRBY', key, 1, tags[j])
    end
  end
end
return 1
