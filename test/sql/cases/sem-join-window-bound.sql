-- Join state is bounded by WITHIN: rows the other side has passed by more than the interval are released.
SELECT a.id FROM a JOIN b ON a.id = b.id WITHIN (INTERVAL 1 SECOND) EMIT CHANGES;
-- input
a @1000 {"id": 1}
a @2000 {"id": 2}
a @3000 {"id": 3}
b @3500 {"id": 3}
b @10000 {"id": 1}
-- output
{"id": 3}
// the right side holds b@3.5 s (the left clock, 3 s, has not passed 4.5 s) and b@10 s
-- stats {"stateSize": 2}
