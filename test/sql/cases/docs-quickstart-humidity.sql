-- Quick start (docs-next start/quickstart-with-docker.md): records of `demo` with humidity above 70.
-- Upstream prints {"humidity":{"$numberLong":"80"},…}; we emit plain JSON numbers.
SELECT * FROM demo WHERE humidity > 70 EMIT CHANGES;
-- input
demo {"temperature": 22, "humidity": 80}
demo {"temperature": 15, "humidity": 20}
demo {"temperature": 31, "humidity": 76}
demo {"temperature": 5, "humidity": 45}
demo {"temperature": 27, "humidity": 82}
demo {"temperature": 28, "humidity": 86}
-- output
{"temperature": 22, "humidity": 80}
{"temperature": 31, "humidity": 76}
{"temperature": 27, "humidity": 82}
{"temperature": 28, "humidity": 86}
