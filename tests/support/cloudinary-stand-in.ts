import { createHash, randomBytes } from 'node:crypto';
import fastifyMultipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * A local HTTP stand-in for Cloudinary's Upload API (POST /v1_1/<cloud>/image/upload and
 * /image/destroy), for tests of the Cloudinary media store through the real SDK. It takes
 * multipart/form-data or urlencoded bodies like the real service, checks the api_key, the timestamp
 * and the signature (SHA-1 of the sorted parameters plus the API secret, as Cloudinary documents for
 * signed requests), and answers with the documented JSON shapes.
 */

export interface StoredAsset {
  publicId: string;
  bytes: Buffer;
  params: Record<string, string>;
}

export interface CloudinaryStandIn {
  url: string;
  cloudName: string;
  apiKey: string;
  apiSecret: string;
  /** cloudinary://key:secret@cloud for CLOUDINARY_URL */
  cloudinaryUrl: string;
  assets: Map<string, StoredAsset>;
  calls: { action: 'upload' | 'destroy'; params: Record<string, string>; status: number }[];
  close(): Promise<void>;
}

const UNSIGNED = new Set(['signature', 'api_key', 'file', 'resource_type', 'cloud_name']);

export function expectedSignature(params: Record<string, string>, secret: string): string {
  const toSign = Object.entries(params)
    .filter(([k, v]) => !UNSIGNED.has(k) && v !== '')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`.replace(/&/g, '%26'))
    .join('&');
  return createHash('sha1').update(toSign + secret).digest('hex');
}

export async function startCloudinaryStandIn(options: { cloudName?: string } = {}): Promise<CloudinaryStandIn> {
  const cloudName = options.cloudName ?? 'nexus-test';
  const apiKey = String(100000000000000 + Math.floor(Math.random() * 1e9));
  const apiSecret = randomBytes(18).toString('base64url');
  const assets = new Map<string, StoredAsset>();
  const calls: CloudinaryStandIn['calls'] = [];

  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: 20 * 1024 * 1024 });
  await app.register(fastifyMultipart, { limits: { fileSize: 20 * 1024 * 1024 } });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body.toString())));
  });

  async function readForm(request: FastifyRequest): Promise<{ params: Record<string, string>; file: Buffer | null }> {
    if (!request.isMultipart()) return { params: (request.body ?? {}) as Record<string, string>, file: null };
    const params: Record<string, string> = {};
    let file: Buffer | null = null;
    for await (const part of request.parts()) {
      if (part.type === 'file') file = await part.toBuffer();
      else params[part.fieldname] = String(part.value);
    }
    return { params, file };
  }

  const refuse = (reply: FastifyReply, status: number, message: string) => reply.code(status).send({ error: { message } });

  function checkSigned(params: Record<string, string>): string | null {
    if (params.api_key !== apiKey) return 'Unknown API key';
    if (!params.timestamp || !/^\d+$/.test(params.timestamp)) return 'Missing required parameter - timestamp';
    if (Math.abs(Date.now() / 1000 - Number(params.timestamp)) > 3600) return 'Stale request';
    if (!params.signature) return 'Missing required parameter - signature';
    if (params.signature !== expectedSignature(params, apiSecret)) return `Invalid Signature ${params.signature}`;
    return null;
  }

  app.post<{ Params: { cloud: string; action: string } }>('/v1_1/:cloud/image/:action', async (request, reply) => {
    const { params, file } = await readForm(request);
    const action = request.params.action;
    const record = (status: number) => calls.push({ action: action as 'upload' | 'destroy', params, status });
    if (request.params.cloud !== cloudName) {
      record(404);
      return refuse(reply, 404, 'Unknown cloud');
    }
    const problem = checkSigned(params);
    if (problem) {
      record(401);
      return refuse(reply, 401, problem);
    }
    if (action === 'upload') {
      if (!file || file.length === 0) {
        record(400);
        return refuse(reply, 400, 'Missing required parameter - file');
      }
      const publicId = params.public_id || randomBytes(10).toString('hex');
      if (assets.has(publicId) && params.overwrite === 'false') {
        record(400);
        return refuse(reply, 400, 'Resource already exists');
      }
      assets.set(publicId, { publicId, bytes: file, params });
      record(200);
      const version = Math.floor(Date.now() / 1000);
      const base = `res.cloudinary.com/${cloudName}/image/upload/v${version}/${publicId}`;
      return {
        asset_id: randomBytes(16).toString('hex'),
        public_id: publicId,
        version,
        version_id: randomBytes(16).toString('hex'),
        signature: randomBytes(20).toString('hex'),
        width: 1,
        height: 1,
        format: 'png',
        resource_type: 'image',
        created_at: new Date().toISOString(),
        tags: [],
        bytes: file.length,
        type: 'upload',
        etag: createHash('md5').update(file).digest('hex'),
        placeholder: false,
        url: `http://${base}`,
        secure_url: `https://${base}`,
        api_key: apiKey,
      };
    }
    if (action === 'destroy') {
      record(200);
      return { result: assets.delete(params.public_id ?? '') ? 'ok' : 'not found' };
    }
    record(404);
    return refuse(reply, 404, `Unknown action ${action}`);
  });

  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    cloudName,
    apiKey,
    apiSecret,
    cloudinaryUrl: `cloudinary://${apiKey}:${apiSecret}@${cloudName}`,
    assets,
    calls,
    close: () => app.close(),
  };
}
