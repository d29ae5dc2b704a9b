-- HOP(size 10 s, advance 5 s): a row is in two windows and emits one row per window, in start order.
-- Windows that would start before 0 are skipped (as upstream).
SELECT COUNT(*) AS n, window_start FROM HOP(s, INTERVAL 10 SECOND, INTERVAL 5 SECOND) GROUP BY k EMIT CHANGES;
-- input
s @3000 {"k": 1}
s @7000 {"k": 1}
s @12000 {"k": 1}
-- output
{"n": 1, "window_start": {"$timestamp": "1970-01-01T00:00:00+00:00"}}
{"n": 2, "window_start": {"$timestamp": "1970-01-01T00:00:00+00:00"}}
{"n": 1, "window_start": {"$timestamp": "1970-01-01T00:00:05+00:00"}}
{"n": 2, "window_start": {"$timestamp": "1970-01-01T00:00:05+00:00"}}
{"n": 1, "window_start": {"$timestamp": "1970-01-01T00:00:10+00:00"}}
-- stats {"stateSize": 3}
