import autocannon from 'autocannon';

/**
 * autocannon in a child process of scripts/bench/run.ts, kept for the whole run: the load generator
 * shares no event loop with the orchestrator, and no run pays for starting a process.
 * Receives {url, connections, duration}; answers with autocannon's result.
 */

export interface CannonRun {
  url: string;
  connections: number;
  duration: number;
}

process.on('message', (run: CannonRun) => {
  autocannon({ url: run.url, connections: run.connections, duration: run.duration }).then(
    (result) => process.send?.({ ok: true, result }),
    (error: unknown) => process.send?.({ ok: false, error: error instanceof Error ? error.message : String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
