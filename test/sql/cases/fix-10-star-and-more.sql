-- fix 10: upstream drops `*` when other items follow it. Ours keeps every column and adds the others.
SELECT *, humidity - 50 AS over FROM demo EMIT CHANGES;
-- input
demo {"temperature": 22, "humidity": 80}
-- output
{"temperature": 22, "humidity": 80, "over": 30}
