// The `fraud-detector` command line: one sub-command per file in this folder (main.ts loads it).
import { Command } from 'commander';
import { takeEarlySignal } from './early-signals.js';
import { FraudDetectorError } from '../contract/errors.js';
import { registerAlerts } from './alerts.js';
import { registerFeatures } from './features.js';
import { registerReplay } from './replay.js';
import { registerRules } from './rules.js';
import { registerRun } from './run.js';
import { registerSimulate } from './simulate.js';
import { registerTopics } from './topics.js';
import { registerTrain } from './train.js';
import { registerEvaluate } from './evaluate.js';

// A closed pipe (`| head`) ends the command quietly instead of crashing it.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const program = new Command('fraud-detector')
  .description('Real-time fraud detection: Kafka transactions in, features in Redis, model + rules, alerts out.')
  .showHelpAfterError()
  .hook('preAction', () => {
    // Told to stop before the command began: it has done nothing, so stopping is clean.
    const signal = takeEarlySignal();
    if (signal !== null) {
      console.error(`fraud-detector: ${signal} before the command started; exiting`);
      process.exit(0);
    }
  });

registerRun(program);
registerSimulate(program);
registerTopics(program);
registerAlerts(program);
registerRules(program);
registerReplay(program);
registerFeatures(program);
registerTrain(program);
registerEvaluate(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof FraudDetectorError) {
    console.error(`fraud-detector: ${err.code}: ${err.message}`);
  } else {
    console.error('fraud-detector:', err);
  }
  process.exit(1);
});
