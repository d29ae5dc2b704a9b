-- fix 11: upstream cannot parse a function call as an operand of + - * (`ABS(a) + 1`).
-- The column is named as upstream names the parenthesised form (`(ABS(a))+1`).
SELECT ABS(a) + 1, 2 * FLOOR(b), c->'n' * 10 AS scaled FROM s EMIT CHANGES;
-- input
s {"a": -4, "b": 2.7, "c": {"n": 3}}
-- output
{"(ABS(a))+1": 5, "2*(FLOOR(b))": 4, "scaled": 30}
