import { ConfigError } from '../shell/config.js';

/**
 * Runs a command-line script's `main` and exits with the code it returns. Whatever escapes it is one
 * line on stderr and exit code 1: a configuration error says so, anything else is prefixed with `name`.
 */
export function runCommand(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      const message = error instanceof ConfigError ? `configuration error: ${error.message}` : `${name}: ${error instanceof Error ? error.message : String(error)}`;
      process.stderr.write(`${message}\n`);
      process.exit(1);
    },
  );
}
