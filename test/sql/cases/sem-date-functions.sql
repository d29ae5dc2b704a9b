-- DATETOSTRING / STRINGTODATE with upstream's fixed formats; DATE/TIME/TIMESTAMP literals are labelled in output.
SELECT DATETOSTRING(t, '%Y-%m-%d %H:%M:%S') AS s1, DATETOSTRING(t, '%a, %d %b %Y %H:%M:%S GMT') AS s2, STRINGTODATE('2021-08-07T10:41:03+0200', '%Y-%m-%dT%H:%M:%S%z') AS back, DATE '2021-08-07' AS d, TIME '10:41:03' AS tm, TIMESTAMP '2023-06-30T12:30:45+02:00' AS ts, INTERVAL 5 SECOND AS iv FROM s EMIT CHANGES;
-- input
s {"t": 1628333163}
-- output
{"s1": "2021-08-07 10:46:03", "s2": "Sat, 07 Aug 2021 10:46:03 GMT", "back": 1628325663, "d": {"$date": "2021-08-07"}, "tm": {"$time": "10:41:03"}, "ts": {"$timestamp": "2023-06-30T12:30:45+02:00"}, "iv": {"$interval": "P0MT5S"}}
