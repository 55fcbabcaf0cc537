// Reads every key under a prefix from Redis (SCAN, then MGET in chunks), by its name without
// the prefix, so two runs' keys can be matched; and deletes them once compared.
import { Redis } from 'ioredis';

export async function readPrefix(redisUrl: string, prefix: string): Promise<Map<string, Buffer>> {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 5 });
  try {
    const keys = await scanKeys(client, prefix);
    const out = new Map<string, Buffer>();
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      const values = await client.mgetBuffer(...chunk);
      chunk.forEach((k, j) => {
        const v = values[j];
        if (v !== null && v !== undefined) out.set(k.slice(prefix.length + 1), v);
      });
    }
    return out;
  } finally {
    client.disconnect();
  }
}

export async function deletePrefix(redisUrl: string, prefix: string): Promise<void> {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 5 });
  try {
    const keys = await scanKeys(client, prefix);
    for (let i = 0; i < keys.length; i += 1000) await client.unlink(...keys.slice(i, i + 1000));
  } finally {
    client.disconnect();
  }
}

async function scanKeys(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${escapeGlob(prefix)}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
