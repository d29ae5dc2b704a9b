-- CREATE VIEW reference (docs-next reference/sql/statements/create-view.md): what v1 holds at t3.
CREATE VIEW v1 AS SELECT id, SUM(sales) FROM s GROUP BY id;
-- input
s {"id": 1, "sales": 10}
s {"id": 2, "sales": 8}
s {"id": 1, "sales": 20}
s {"id": 2, "sales": 7}
-- view
{"id": 1, "SUM(sales)": 30}
{"id": 2, "SUM(sales)": 15}
-- pull SELECT * FROM v1;
{"id": 1, "SUM(sales)": 30}
{"id": 2, "SUM(sales)": 15}
-- pull SELECT "SUM(sales)" AS total FROM v1 WHERE id = 2;
{"total": 15}
