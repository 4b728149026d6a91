import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MediaStore } from './store.js';

/** Path under which the API serves local media (registered by the product-images routes under /api/v1). */
export const LOCAL_MEDIA_PATH = '/api/v1/media';

/** Keys are flat file names (no separators, no dots but the extension's), so no key can leave the directory. */
export const LOCAL_MEDIA_KEY = /^[A-Za-z0-9_-]{1,100}\.(jpg|png|webp)$/;

const CONTENT_TYPES: Record<string, string> = { jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

export function localMediaStore(dataDir: string): MediaStore {
  const root = path.resolve(dataDir, 'media');
  const fileOf = (key: string): string | null => {
    if (!LOCAL_MEDIA_KEY.test(key)) return null;
    const file = path.resolve(root, key);
    return path.dirname(file) === root ? file : null;
  };
  return {
    kind: 'local',
    async put({ key, bytes }) {
      const file = fileOf(key);
      if (!file) throw new Error(`invalid media key ${JSON.stringify(key)}`);
      await mkdir(root, { recursive: true });
      await writeFile(file, bytes, { flag: 'wx' });
      return { key };
    },
    urlOf: (key, baseUrl) => `${baseUrl.replace(/\/+$/, '')}${LOCAL_MEDIA_PATH}/${encodeURIComponent(key)}`,
    async remove(key) {
      const file = fileOf(key);
      if (file) await rm(file, { force: true });
    },
    async read(key) {
      const file = fileOf(key);
      if (!file) return null;
      try {
        return { bytes: await readFile(file), contentType: CONTENT_TYPES[key.slice(key.lastIndexOf('.') + 1)]! };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
  };
}
