-- JSON access: -> (typed), ->> (text), #> / #>> (paths of keys and indexes); a missing key is NULL.
SELECT j->'a' AS a, j->>'a' AS a_text, j->'b'->'c' AS bc, j#>({'b', 'd', 1}) AS bd1, j#>>({'b', 'd', 0}) AS bd0_text, j->'zz' AS missing FROM s EMIT CHANGES;
-- input
s {"j": {"a": 1.5, "b": {"c": "x", "d": [true, false]}}}
-- output
{"a": 1.5, "a_text": "1.5", "bc": "x", "bd1": false, "bd0_text": "true", "missing": null}
