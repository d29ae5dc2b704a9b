-- SELECT reference (docs-next reference/sql/statements/select-stream.md): counting per city in 10 s tumbling windows.
-- The emitted rows carry only COUNT(*) (cityId is not selected); the view rows carry the window bounds.
SELECT COUNT(*) FROM TUMBLE(weather, INTERVAL 10 SECOND) GROUP BY cityId EMIT CHANGES;
-- input
weather @1000 {"cityId": 1}
weather @2000 {"cityId": 1}
weather @3000 {"cityId": 2}
weather @12000 {"cityId": 1}
-- output
{"COUNT(*)": 1}
{"COUNT(*)": 2}
{"COUNT(*)": 1}
{"COUNT(*)": 1}
-- view
{"COUNT(*)": 2, "window_start": {"$timestamp": "1970-01-01T00:00:00+00:00"}, "window_end": {"$timestamp": "1970-01-01T00:00:10+00:00"}}
{"COUNT(*)": 1, "window_start": {"$timestamp": "1970-01-01T00:00:00+00:00"}, "window_end": {"$timestamp": "1970-01-01T00:00:10+00:00"}}
{"COUNT(*)": 1, "window_start": {"$timestamp": "1970-01-01T00:00:10+00:00"}, "window_end": {"$timestamp": "1970-01-01T00:00:20+00:00"}}
