-- SELECT reference (docs-next reference/sql/statements/select-stream.md): filtering rows.
SELECT temperature, humidity FROM weather WHERE temperature > 10 AND humidity < 75 EMIT CHANGES;
-- input
weather {"cityId": 1, "temperature": 12, "humidity": 65}
weather {"cityId": 2, "temperature": 8, "humidity": 60}
weather {"cityId": 3, "temperature": 25, "humidity": 90}
weather {"cityId": 4, "temperature": 31, "humidity": 74}
-- output
{"temperature": 12, "humidity": 65}
{"temperature": 31, "humidity": 74}
