-- fix 9: upstream's arr[i:] always errors. Slices include the end index (upstream's documented convention);
-- an open end runs to the last element.
SELECT arr[1] AS one, arr[1:] AS from_one, arr[:1] AS to_one, arr[1:2] AS one_two FROM s EMIT CHANGES;
-- input
s {"arr": ["a", "b", "c", "d"]}
-- output
{"one": "b", "from_one": ["b", "c", "d"], "to_one": ["a", "b"], "one_two": ["b", "c"]}
