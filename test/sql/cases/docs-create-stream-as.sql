-- CREATE STREAM reference (docs-next reference/sql/statements/create-stream.md): a derived stream.
CREATE STREAM abnormal_weather AS SELECT * FROM weather WHERE temperature > 30 AND humidity > 80;
-- input
weather {"temperature": 31, "humidity": 81}
weather {"temperature": 35, "humidity": 80}
weather {"temperature": 30, "humidity": 90}
weather {"temperature": 40, "humidity": 99, "city": "x"}
-- output
{"temperature": 31, "humidity": 81}
{"temperature": 40, "humidity": 99, "city": "x"}
