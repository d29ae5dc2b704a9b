-- A self join needs aliases. `*` over a join writes bare names unless two share one; then every field is tag.name (upstream's SQL docs).
SELECT * FROM s AS a JOIN s AS b ON a.k = b.k WITHIN (INTERVAL 1 MINUTE) WHERE a.v < b.v EMIT CHANGES;
-- input
s @1000 {"k": 1, "v": 1}
s @2000 {"k": 1, "v": 2}
s @3000 {"k": 2, "v": 5}
-- output
{"a.k": 1, "a.v": 1, "b.k": 1, "b.v": 2}
