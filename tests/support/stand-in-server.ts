import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The HTTP plumbing shared by the payment providers' stand-ins: a server on a free local port that reads
 * each request's body and hands it to the stand-in's handler, JSON answers, and the ways a stand-in can
 * be told to misbehave.
 */

/** hang (never answers), error500, malformed (a non-JSON body), or normal. */
export type Misbehaviour = 'normal' | 'hang' | 'error500' | 'malformed';

export interface StandInRequest {
  body: string;
  /** The URL's path, without the query. */
  path: string;
  /** Answers as `mode` says and returns true, or returns false for 'normal'. */
  misbehave(mode: Misbehaviour): boolean;
}

export interface StandInServer {
  url: string;
  close(): Promise<void>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString('utf8')));
    req.on('end', () => resolve(data));
  });

/**
 * Starts a stand-in on 127.0.0.1 and a free port. `failures` are the provider's own answers when told to
 * misbehave: the body of its 500 and the broken body of a 200. Responses left hanging are destroyed on close.
 */
export async function startStandIn(
  failures: { error500: unknown; malformed: string },
  handle: (req: IncomingMessage, res: ServerResponse, request: StandInRequest) => unknown,
): Promise<StandInServer> {
  const hanging = new Set<ServerResponse>();
  const misbehaviourOn = (res: ServerResponse) => (mode: Misbehaviour): boolean => {
    if (mode === 'hang') {
      hanging.add(res);
      return true;
    }
    if (mode === 'error500') {
      sendJson(res, 500, failures.error500);
      return true;
    }
    if (mode === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(failures.malformed);
      return true;
    }
    return false;
  };

  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const path = (req.url ?? '').split('?')[0]!;
    await handle(req, res, { body, path, misbehave: misbehaviourOn(res) });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
