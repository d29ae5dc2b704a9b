/**
 * The scenario registry: every scenario the bench can run, in run order.
 * To add a family (subscription fan-out, SQL, HTTP/autocannon, …) write
 * bench/<family>.ts exporting `Scenario[]` (see bench/scenario.ts) and list
 * it here; run.ts, the table and latest.json pick it up unchanged.
 */
import { appendScenarios } from './append.js';
import { baselineScenarios } from './baselines.js';
import { connectorScenarios } from './connectors.js';
import { mqttScenarios } from './mqtt.js';
import { deliveryScenarios } from './delivery.js';
import { idleScenarios } from './idle.js';
import { latencyScenarios } from './latency.js';
import { lakeScenarios } from './lake.js';
import { lifecycleScenarios } from './lifecycle.js';
import { readScenarios } from './read.js';
import { redisScenarios } from './redis.js';
import { scaleScenarios } from './scale.js';
import type { Scenario } from './scenario.js';
import { sqlScenarios } from './sql.js';

export const SCENARIOS: readonly Scenario[] = [
  ...baselineScenarios,
  ...appendScenarios,
  ...readScenarios,
  ...deliveryScenarios,
  ...redisScenarios,
  ...lifecycleScenarios,
  ...idleScenarios,
  ...scaleScenarios,
  ...latencyScenarios,
  ...sqlScenarios,
  ...connectorScenarios,
  ...mqttScenarios,
  ...lakeScenarios,
  // TODO: http (autocannon against src/http) once it lands.
];
