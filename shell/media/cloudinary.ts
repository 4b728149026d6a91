import http from 'node:http';
import cloudinary from 'cloudinary';
import type { MediaStore } from './store.js';

/**
 * Product images on Cloudinary, through the official SDK (v2 uploader). Credentials come from
 * CLOUDINARY_URL (cloudinary://<api_key>:<api_secret>@<cloud_name>) and are passed with every call
 * rather than set on the SDK's global config, so two stores never share settings.
 *
 * `uploadPrefix` (the SDK's upload_prefix) points the API at another host: tests use a local
 * stand-in. The SDK picks http or https once, from its global config at load time, so for an http://
 * prefix we hand it an http agent, which makes its request go out over plain HTTP.
 */

export interface CloudinaryOptions {
  url: string;
  uploadPrefix?: string | undefined;
  timeoutMs?: number;
}

/** Public ids live under this folder, so the account can hold other things too. */
export const CLOUDINARY_FOLDER = 'nexus/product-images';

/** Where Cloudinary delivers uploaded images (its documented delivery host). */
export const CLOUDINARY_DELIVERY_URL = 'https://res.cloudinary.com';

interface UploadResult {
  public_id: string;
}

export function parseCloudinaryUrl(url: string): { cloud_name: string; api_key: string; api_secret: string } {
  const parsed = new URL(url);
  const cloud_name = parsed.hostname;
  const api_key = decodeURIComponent(parsed.username);
  const api_secret = decodeURIComponent(parsed.password);
  if (parsed.protocol !== 'cloudinary:' || !cloud_name || !api_key || !api_secret) {
    throw new Error('CLOUDINARY_URL must look like cloudinary://<api_key>:<api_secret>@<cloud_name>');
  }
  return { cloud_name, api_key, api_secret };
}

export function cloudinaryMediaStore(options: CloudinaryOptions): MediaStore {
  const credentials = parseCloudinaryUrl(options.url);
  const plainHttp = options.uploadPrefix?.startsWith('http:') ?? false;
  const callOptions = {
    ...credentials,
    ...(options.uploadPrefix ? { upload_prefix: options.uploadPrefix.replace(/\/+$/, '') } : {}),
    ...(plainHttp ? { agent: new http.Agent() } : {}),
    timeout: options.timeoutMs ?? 20_000,
  };
  const { uploader } = cloudinary.v2;

  return {
    kind: 'cloudinary',
    put({ key, bytes }) {
      const publicId = `${CLOUDINARY_FOLDER}/${key.replace(/\.[a-z]+$/, '')}`;
      return new Promise((resolve, reject) => {
        const stream = uploader.upload_stream(
          { ...callOptions, public_id: publicId, resource_type: 'image', overwrite: false },
          (error, result) => {
            if (error || !result) return reject(new Error(`Cloudinary upload failed: ${error?.message ?? 'no result'}`));
            resolve({ key: (result as unknown as UploadResult).public_id });
          },
        );
        stream.end(bytes);
      });
    },
    // A delivery URL without version or format: Cloudinary serves the latest version (public ids are
    // never overwritten here) in the format it was uploaded in.
    urlOf: (key) => `${CLOUDINARY_DELIVERY_URL}/${encodeURIComponent(credentials.cloud_name)}/image/upload/${key.split('/').map(encodeURIComponent).join('/')}`,
    async remove(key) {
      const result = (await uploader.destroy(key, { ...callOptions, resource_type: 'image', invalidate: true })) as { result?: string };
      if (result.result !== 'ok' && result.result !== 'not found') throw new Error(`Cloudinary destroy failed: ${JSON.stringify(result)}`);
    },
    // Cloudinary serves its own URLs.
    read: async () => null,
  };
}
