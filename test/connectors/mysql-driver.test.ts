/** The mysql sink driver against a real MariaDB server. */
import { mysqlSink } from '../../src/connectors/mysql.js';
import { mariadbUnavailable, startMariaDb } from '../helpers/mariadb.js';
import { describeSqlDriver } from './sql-driver.suite.js';

describeSqlDriver({
  driver: mysqlSink,
  unavailable: mariadbUnavailable,
  start: startMariaDb,
  ddl: {
    t1: 'CREATE TABLE t1 (id int PRIMARY KEY, name varchar(100), n int, doc json)',
    restart: 'CREATE TABLE restart (id int PRIMARY KEY, v varchar(100))',
  },
  qualifiedTable: (db) => `${db.database}.t1`,
  countBigSql: 'SELECT count(*) AS n, CAST(sum(length(body)) AS SIGNED) AS bytes FROM big',
  errors: { wrongPassword: /Access denied for user 'sink'/, notAnInteger: /Incorrect integer value/ },
});
