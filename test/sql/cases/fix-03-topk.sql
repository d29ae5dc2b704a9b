-- fix 3: upstream's TOPK / TOPKDISTINCT never emit (undefined step). Ours emit the k largest values, descending.
SELECT k, TOPK(v, 3) AS top3, TOPKDISTINCT(v, 2) AS top2d FROM s GROUP BY k EMIT CHANGES;
-- input
s {"k": 1, "v": 5}
s {"k": 1, "v": 9}
s {"k": 1, "v": 5}
s {"k": 1, "v": 1}
s {"k": 1, "v": 9}
-- output
{"k": 1, "top3": [5], "top2d": [5]}
{"k": 1, "top3": [9, 5], "top2d": [9, 5]}
{"k": 1, "top3": [9, 5, 5], "top2d": [9, 5]}
{"k": 1, "top3": [9, 5, 5], "top2d": [9, 5]}
{"k": 1, "top3": [9, 9, 5], "top2d": [9, 5]}
