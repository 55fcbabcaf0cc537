// A process whose consumer's close is held by a rebalance (its revoke callback never returns,
// as when a close waits on a rebalance the main thread no longer serves), which then exits:
// `node --import tsx test/helpers/held-close.ts TOPIC exit-process|process-exit`.
import { ClientCloses, exitProcess } from '../../src/kafka/client-closes.js';
import { createConsumer } from '../../src/kafka/client.js';
import { createLogger } from '../../src/observability/logger.js';
import { KAFKA_BROKERS } from './services.js';

const [topic = '', how = 'exit-process'] = process.argv.slice(2);
const logger = createLogger('info', 'held-close');
let assigned = (): void => undefined;
const joined = new Promise<void>((resolve) => (assigned = resolve));
const consumer = createConsumer(
  { brokers: KAFKA_BROKERS, clientId: 'held-close', security: {}, logger },
  {
    groupId: `${topic}-group`,
    maxBatchSize: 100,
    rebalance: {
      assigned: () => Promise.resolve(assigned()),
      revoked: () => new Promise<void>(() => undefined),
    },
  },
);
await consumer.connect();
await consumer.subscribe({ topics: [topic] });
await consumer.run({ eachBatch: () => Promise.resolve() });
await joined;
const closes = new ClientCloses();
void closes.track('transactions', consumer.disconnect());
await new Promise((resolve) => setTimeout(resolve, 1000));
logger.info({ closing: closes.pending() }, 'exiting');
if (how === 'process-exit') process.exit(0);
else exitProcess(0, closes.pending(), logger);
