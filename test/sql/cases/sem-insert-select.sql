-- INSERT INTO … SELECT: a continuous query appending to an existing stream.
INSERT INTO hot SELECT city, temperature * 2 AS doubled FROM weather WHERE temperature BETWEEN 30 AND 40;
-- input
weather {"city": "a", "temperature": 35}
weather {"city": "b", "temperature": 20}
-- output
{"city": "a", "doubled": 70}
