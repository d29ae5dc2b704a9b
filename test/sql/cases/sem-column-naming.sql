-- Unaliased expressions are named like upstream: keywords upper-cased, whitespace removed, floats in Haskell form.
select sum(a), count(*), a * 0.05, to_upper(name), c ->> 'season_id', cast(a as integer), a :: integer, ({'aa', 'bb'})[0], {1, 2} from s group by a, name, c emit changes;
-- input
s {"a": 10, "name": "x", "c": {"season_id": 3}}
-- output
{"SUM(a)": 10, "COUNT(*)": 1, "a*5.0e-2": 0.5, "TO_UPPER(name)": "X", "c->>'season_id'": "3", "CAST(aASINTEGER)": 10, "a::INTEGER": 10, "({'aa','bb'})[0]": "aa", "{1,2}": [1, 2]}
