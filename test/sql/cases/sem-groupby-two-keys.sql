-- GROUP BY two keys; key columns need not be selected in the same order.
SELECT city, SUM(amount) AS total, shop FROM sales GROUP BY shop, city EMIT CHANGES;
-- input
sales {"shop": "s1", "city": "a", "amount": 5}
sales {"shop": "s1", "city": "b", "amount": 1}
sales {"shop": "s2", "city": "a", "amount": 2}
sales {"shop": "s1", "city": "a", "amount": 5}
sales {"shop": "s1", "city": "b", "amount": 0.5}
-- table key=shop,city
{"shop": "s1", "city": "a", "total": 10}
{"shop": "s1", "city": "b", "total": 1.5}
{"shop": "s2", "city": "a", "total": 2}
