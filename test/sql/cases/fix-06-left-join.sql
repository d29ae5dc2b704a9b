-- fix 6: upstream's LEFT/RIGHT/FULL joins behave as INNER and never expire buffers.
-- Ours: a left row that leaves the WITHIN window without a match is emitted once, NULL-extended.
-- Buffered rows are released once the other side's clock passes them by more than WITHIN.
SELECT o.id, o.item, p.paid FROM orders AS o LEFT JOIN payments AS p ON o.id = p.order_id WITHIN (INTERVAL 10 SECOND) EMIT CHANGES;
-- input
orders @1000 {"id": 1, "item": "book"}
orders @2000 {"id": 2, "item": "pen"}
payments @5000 {"order_id": 1, "paid": 12}
payments @30000 {"order_id": 9, "paid": 1}
orders @31000 {"id": 3, "item": "ink"}
payments @60000 {"order_id": 7, "paid": 2}
-- output
{"id": 1, "item": "book", "paid": 12}
{"id": 2, "item": "pen", "paid": null}
{"id": 3, "item": "ink", "paid": null}
// only the two payments at 30 s and 60 s are still held: the left side has not reached 40 s yet
-- stats {"stateSize": 2}
