-- With a 1 s grace, a window closes 1 s after its end: its state is released and rows for it are dropped as late.
SELECT k, COUNT(*) AS n FROM TUMBLE(s, INTERVAL 10 SECOND) GROUP BY k EMIT CHANGES;
-- options {"windowGraceMs": 1000}
-- input
s @1000 {"k": "a"}
s @2000 {"k": "b"}
s @10500 {"k": "a"}
s @9000 {"k": "a"}
s @11000 {"k": "a"}
s @9500 {"k": "a"}
-- output
{"k": "a", "n": 1}
{"k": "b", "n": 1}
{"k": "a", "n": 1}
{"k": "a", "n": 2}
{"k": "a", "n": 2}
-- stats {"lateRows": 1, "stateSize": 1}
