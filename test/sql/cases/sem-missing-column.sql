-- Streams are schemaless: a column absent from a record reads as NULL (upstream: missing select item → null),
-- and a WHERE on it is not TRUE.
SELECT a, zzz, a + zzz AS total FROM s EMIT CHANGES;
-- input
s {"a": 1}
-- output
{"a": 1, "zzz": null, "total": null}
