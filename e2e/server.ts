// Starts one reference server per test on a free port (it prints its address).
import { spawn, type ChildProcess } from 'node:child_process';
import { test as base } from '@playwright/test';

export interface RunningServer {
  /** e.g. `http://127.0.0.1:41234` */
  origin: string;
  port: number;
  process: ChildProcess;
}

export async function startServer(extraArgs: string[] = []): Promise<RunningServer> {
  const bin = process.env.TW_SERVER_BIN;
  if (!bin) throw new Error('TW_SERVER_BIN is not set: run the suite through `cargo xtask test`');
  const child = spawn(bin, ['--addr', '127.0.0.1:0', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const origin = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 15_000);
    child.stdout?.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[^/\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
  });
  return { origin, port: Number(new URL(origin).port), process: child };
}

export const test = base.extend<{ server: RunningServer }>({
  server: async ({}, use) => {
    const server = await startServer();
    await use(server);
    server.process.kill();
  },
});
export { expect } from '@playwright/test';
