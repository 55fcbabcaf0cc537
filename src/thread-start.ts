// Starts one of our modules on a worker thread. From dist/ the module is plain JavaScript;
// under tsx (the tests, the benches) the caller is TypeScript, and the thread registers tsx's
// loader first (a devDependency, absent in production).
import { Worker, type ResourceLimits } from 'node:worker_threads';

/** `entry`: the module's path beside the caller's, without its extension; `callerUrl`: the caller's import.meta.url. */
export function startModuleThread(callerUrl: string, entry: string, workerData: unknown, resourceLimits?: ResourceLimits): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`${entry}.js`, callerUrl), { workerData, resourceLimits });
  const url = new URL(`${entry}.ts`, callerUrl).href;
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}); });`;
  return new Worker(bootstrap, { eval: true, workerData, resourceLimits });
}
