-- A nested object field in WHERE and in the select list (upstream regression #1410 shape);
-- -> on a value that is not an object is an error, so that row is dropped (and counted).
SELECT c->>'season_id' AS season FROM production_changes WHERE c->'episodes' > 2 EMIT CHANGES;
-- input
production_changes {"c": {"season_id": "s1", "episodes": 3}}
production_changes {"c": {"season_id": "s2", "episodes": 1}}
production_changes {"c": "not an object"}
-- output
{"season": "s1"}
-- stats {"evalErrors": 1}
