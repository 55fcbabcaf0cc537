// The fault suite's steady producer, a process of its own and a client independent of the
// detector: idempotent, acks=all, and a message timeout long enough for its input to survive a
// broker outage. It sends transactions at `rate` per second (labels as they become known)
// until SIGTERM (or `count`), waits for the brokers to acknowledge them, and prints a JSON
// summary as its last line.
//   node --import tsx test/faults/producer.ts '<ProducerJob as JSON>'
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { InputStream, type InputOptions } from './input.js';

export interface ProducerJob {
  brokers: string;
  transactionsTopic: string;
  labelsTopic: string;
  /** Stop after this many transactions; none: until SIGTERM. */
  count?: number;
  input: InputOptions;
  /** How long a message may wait for the brokers before it counts as failed. */
  messageTimeoutMs: number;
}

export interface ProducerSummary {
  sent: number;
  malformed: number;
  labels: number;
  /** Sends the brokers never acknowledged: the input is then not what was planned. */
  failed: number;
  errors: string[];
  seconds: number;
}

const TICK_MS = 50;

async function produce(job: ProducerJob): Promise<ProducerSummary> {
  const producer = new KafkaJS.Kafka({ 'bootstrap.servers': job.brokers, 'client.id': 'fd-faults-producer', log_level: 4 }).producer({
    'enable.idempotence': true,
    acks: -1,
    'message.timeout.ms': job.messageTimeoutMs,
    'linger.ms': 5,
  });
  // The client's warnings go to stderr (the scenario's producer.log), with the time: what it
  // went through is read beside the scenario's timeline.
  const note = (level: string) => (message: string) => void process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`);
  Object.assign(producer.logger(), { debug: () => undefined, info: note('info'), warn: note('warn'), error: note('error') });
  await producer.connect();
  const input = new InputStream(job.input);
  const summary: ProducerSummary = { sent: 0, malformed: 0, labels: 0, failed: 0, errors: [], seconds: 0 };
  const inFlight = new Set<Promise<void>>();
  const send = (topic: string, messages: KafkaJS.Message[]): void => {
    const p: Promise<void> = producer.send({ topic, messages }).then(
      () => undefined,
      (err: Error) => {
        note('error')(`send of ${messages.length} to ${topic} failed: ${err.message}`);
        summary.failed += messages.length;
        if (summary.errors.length < 5) summary.errors.push(err.message);
      },
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  const started = Date.now();
  let stop = false;
  process.once('SIGTERM', () => (stop = true));
  const count = job.count ?? Infinity;
  // Sends are not awaited one by one: while the brokers are away the client queues them, and
  // the schedule keeps its rate.
  while (!stop && summary.sent < count) {
    const due = Math.min(count, Math.floor(((Date.now() - started) / 1000) * job.input.rate)) - summary.sent;
    const batch: KafkaJS.Message[] = [];
    for (let i = 0; i < due; i++) {
      const m = input.nextTransaction();
      if (m.headers !== undefined) summary.malformed++;
      batch.push(m);
    }
    if (batch.length > 0) send(job.transactionsTopic, batch);
    summary.sent += batch.length;
    const labels = input.dueLabels();
    if (labels.length > 0) send(job.labelsTopic, labels);
    summary.labels += labels.length;
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  note('info')(`stopping: ${inFlight.size} sends not yet acknowledged`);
  while (inFlight.size > 0) await Promise.all([...inFlight]);
  note('info')('every send acknowledged or failed; disconnecting');
  await producer.disconnect();
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}

const job = JSON.parse(process.argv[2] ?? '') as ProducerJob;
produce(job).then(
  (summary) => {
    console.log(JSON.stringify(summary));
    process.exit(0);
  },
  (err: Error) => {
    console.error(`producer failed: ${err.message}`);
    process.exit(1);
  },
);
