// Runs the training scripts (training/*.py) in their virtual environment, which
// scripts/training-venv.sh creates or updates first.
import { spawn } from 'node:child_process';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TRAINING_DIR = fileURLToPath(new URL('../../training/', import.meta.url));

/** Creates the venv when missing (or its requirements changed); returns its python. */
export async function trainingPython(venv: string): Promise<string> {
  await run('bash', [join(TRAINING_DIR, '..', 'scripts', 'training-venv.sh'), venv]);
  return join(venv, 'bin', 'python');
}

/** Runs a command, its stderr passed through; resolves with its stdout, rejects with its stderr's tail. */
export function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${basename(command)} ${basename(args[0] ?? '')} exited with ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`))));
  });
}
