-- fix 16: upstream's SESSION rows have no window columns. Ours carry the session's first and last row time.
-- The row at 9 s is within the 5 s gap of both sessions of `a`, so it merges them.
SELECT k, COUNT(*) AS n, window_start, window_end FROM SESSION(s, INTERVAL 5 SECOND) GROUP BY k EMIT CHANGES;
-- input
s @1000 {"k": "a"}
s @4000 {"k": "a"}
s @14000 {"k": "a"}
s @22000 {"k": "b"}
s @9000 {"k": "a"}
-- output
{"k": "a", "n": 1, "window_start": {"$timestamp": "1970-01-01T00:00:01+00:00"}, "window_end": {"$timestamp": "1970-01-01T00:00:01+00:00"}}
{"k": "a", "n": 2, "window_start": {"$timestamp": "1970-01-01T00:00:01+00:00"}, "window_end": {"$timestamp": "1970-01-01T00:00:04+00:00"}}
{"k": "a", "n": 1, "window_start": {"$timestamp": "1970-01-01T00:00:14+00:00"}, "window_end": {"$timestamp": "1970-01-01T00:00:14+00:00"}}
{"k": "b", "n": 1, "window_start": {"$timestamp": "1970-01-01T00:00:22+00:00"}, "window_end": {"$timestamp": "1970-01-01T00:00:22+00:00"}}
{"k": "a", "n": 4, "window_start": {"$timestamp": "1970-01-01T00:00:01+00:00"}, "window_end": {"$timestamp": "1970-01-01T00:00:14+00:00"}}
-- view
{"k": "a", "n": 4, "window_start": {"$timestamp": "1970-01-01T00:00:01+00:00"}, "window_end": {"$timestamp": "1970-01-01T00:00:14+00:00"}}
{"k": "b", "n": 1, "window_start": {"$timestamp": "1970-01-01T00:00:22+00:00"}, "window_end": {"$timestamp": "1970-01-01T00:00:22+00:00"}}
