/** The postgresql sink driver against a real PostgreSQL server. */
import { postgresqlSink } from '../../src/connectors/postgresql.js';
import { postgresUnavailable, startPostgres } from '../helpers/postgres.js';
import { describeSqlDriver } from './sql-driver.suite.js';

describeSqlDriver({
  driver: postgresqlSink,
  unavailable: postgresUnavailable,
  start: startPostgres,
  ddl: {
    t1: 'CREATE TABLE t1 (id int PRIMARY KEY, name text, n int, doc jsonb)',
    restart: 'CREATE TABLE restart (id int PRIMARY KEY, v text)',
  },
  // unquoted identifiers fold to lower case, as in SQL
  qualifiedTable: () => 'public.T1',
  countBigSql: 'SELECT count(*)::int AS n, sum(length(body))::int AS bytes FROM big',
  errors: { wrongPassword: /password authentication failed/, notAnInteger: /invalid input syntax for type integer/ },
});
