-- fix 7: upstream has NULL = NULL TRUE and makes AND/OR NULL whenever an operand is NULL.
-- Ours is SQL three-valued logic: comparisons with NULL are NULL, FALSE AND NULL is FALSE, TRUE OR NULL is TRUE.
SELECT a = b AS eq, a <> b AS ne, (a = b) AND FALSE AS and_false, (a = b) OR TRUE AS or_true, NOT (a = b) AS negated FROM s EMIT CHANGES;
-- input
s {"a": null, "b": null}
s {"a": 1, "b": null}
s {"a": 1, "b": 1}
-- output
{"eq": null, "ne": null, "and_false": false, "or_true": true, "negated": null}
{"eq": null, "ne": null, "and_false": false, "or_true": true, "negated": null}
{"eq": true, "ne": false, "and_false": false, "or_true": true, "negated": false}
