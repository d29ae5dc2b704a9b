-- A left-deep chain of joins; unqualified columns read the first source that has them.
SELECT o.id, c.name, s.carrier, amount FROM orders AS o JOIN customers AS c ON o.cust = c.cid WITHIN (INTERVAL 1 HOUR) JOIN shipments AS s ON s.order_id = o.id WITHIN (INTERVAL 1 HOUR) EMIT CHANGES;
-- input
customers {"cid": 7, "name": "Ann"}
orders {"id": 1, "cust": 7, "amount": 30}
orders {"id": 2, "cust": 8, "amount": 5}
shipments {"order_id": 1, "carrier": "ups"}
shipments {"order_id": 2, "carrier": "dhl"}
-- output
{"id": 1, "name": "Ann", "carrier": "ups", "amount": 30}
