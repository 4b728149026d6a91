import { ConfigError } from '../shell/config.js';

/**
 * Runs a command-line script's `main` and exits with the code it returns. Whatever escapes it is one
 * line on stderr and exit code 1: a configuration error says so, anything else is prefixed with `name`.
 *
 * `--help` (or `-h`) anywhere in the arguments prints `usage` on stdout and exits 0 before `main` runs,
 * so it needs no configuration, no database and no services.
 */
export function runCommand(name: string, main: () => Promise<number>, usage: string): void {
  if (wantsHelp(process.argv.slice(2))) {
    process.stdout.write(`${usage.trimEnd()}\n`);
    process.exit(0);
  }
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      const message = error instanceof ConfigError ? `configuration error: ${error.message}` : `${name}: ${error instanceof Error ? error.message : String(error)}`;
      process.stderr.write(`${message}\n`);
      process.exit(1);
    },
  );
}

/** `--help` or `-h` before any `--` (after it, arguments are values, not options). */
export function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}
