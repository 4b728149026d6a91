import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** The project's root: scripts are given relative to it. */
export const ROOT = resolve(import.meta.dirname, '../..');

export interface ScriptOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs an operator script from source as `npm run <script>` does (`node --import tsx`, without npm's
 * start-up cost), with exactly `env` as its environment and `stdin` (if given) on its standard input.
 */
export function runScript(script: string, args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<ScriptOutcome> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** The test runner's environment without the variables named (so a script sees only what a test gives it). */
export function envWithout(names: readonly string[]): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !names.includes(k)));
}
