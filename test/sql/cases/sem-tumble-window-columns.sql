-- TUMBLE(10 s): one row per input row for the window it falls in; window_start/window_end are TIMESTAMPs.
SELECT k, window_start, window_end, SUM(v) AS total FROM TUMBLE(s, INTERVAL 10 SECOND) GROUP BY k EMIT CHANGES;
-- input
s @1000 {"k": "a", "v": 1}
s @9999 {"k": "a", "v": 2}
s @10000 {"k": "a", "v": 4}
s @15000 {"k": "b", "v": 8}
-- output
{"k": "a", "window_start": {"$timestamp": "1970-01-01T00:00:00+00:00"}, "window_end": {"$timestamp": "1970-01-01T00:00:10+00:00"}, "total": 1}
{"k": "a", "window_start": {"$timestamp": "1970-01-01T00:00:00+00:00"}, "window_end": {"$timestamp": "1970-01-01T00:00:10+00:00"}, "total": 3}
{"k": "a", "window_start": {"$timestamp": "1970-01-01T00:00:10+00:00"}, "window_end": {"$timestamp": "1970-01-01T00:00:20+00:00"}, "total": 4}
{"k": "b", "window_start": {"$timestamp": "1970-01-01T00:00:10+00:00"}, "window_end": {"$timestamp": "1970-01-01T00:00:20+00:00"}, "total": 8}
-- table key=k,window_start
{"k": "a", "window_start": {"$timestamp": "1970-01-01T00:00:00+00:00"}, "window_end": {"$timestamp": "1970-01-01T00:00:10+00:00"}, "total": 3}
{"k": "a", "window_start": {"$timestamp": "1970-01-01T00:00:10+00:00"}, "window_end": {"$timestamp": "1970-01-01T00:00:20+00:00"}, "total": 4}
{"k": "b", "window_start": {"$timestamp": "1970-01-01T00:00:10+00:00"}, "window_end": {"$timestamp": "1970-01-01T00:00:20+00:00"}, "total": 8}
