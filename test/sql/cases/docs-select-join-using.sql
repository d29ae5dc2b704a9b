-- SELECT reference (docs-next reference/sql/statements/select-stream.md): joining streams with USING.
SELECT stream1.temperature, stream2.humidity FROM stream1 JOIN stream2 USING(humidity) WITHIN (INTERVAL 1 HOUR) EMIT CHANGES;
-- input
stream1 {"temperature": 20, "humidity": 50}
stream2 {"humidity": 50, "place": "a"}
stream2 {"humidity": 60, "place": "b"}
stream1 {"temperature": 30, "humidity": 60}
stream1 {"temperature": 31}
-- output
{"temperature": 20, "humidity": 50}
{"temperature": 30, "humidity": 60}
