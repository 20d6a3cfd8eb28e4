import { CasTokenError } from '../core/CasTokenError.js';

/** Where CAS is and the credentials it wants. Only ever used on the server. */
export interface CasCredentials {
  /** CAS's base URL, e.g. `https://cas.example.com`. https, except for localhost. Env: `CAS_URL`. */
  casUrl: string;
  /** The app's CAS API key, sent as `auth-api-key`. Env: `CAS_API_KEY`. */
  apiKey: string;
  /** The app's CAS API secret, sent as `auth-api-secret`. Never leaves the server. Env: `CAS_API_SECRET`. */
  apiSecret: string;
}

const SETTINGS = [
  { name: 'casUrl', env: 'CAS_URL', what: 'CAS URL' },
  { name: 'apiKey', env: 'CAS_API_KEY', what: 'CAS API key' },
  { name: 'apiSecret', env: 'CAS_API_SECRET', what: 'CAS API secret' },
] as const;

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function invalidConfig(message: string): CasTokenError {
  return new CasTokenError('invalid-config', message);
}

/**
 * Checks the CAS settings and returns CAS's URL. Throws `invalid-config` with a message that
 * names the setting, and never quotes the key or the secret.
 */
export function checkCasConfig(config: Partial<CasCredentials>): URL {
  for (const setting of SETTINGS) {
    const value: unknown = config[setting.name];
    if (typeof value !== 'string' || value.trim() === '') {
      throw invalidConfig(`The ${setting.what} is missing: pass \`${setting.name}\` or set ${setting.env}.`);
    }
  }
  let url: URL;
  try {
    url = new URL(config.casUrl as string);
  } catch {
    // The value is not quoted: a swapped setting could put the secret here.
    throw invalidConfig('The CAS URL (`casUrl`, CAS_URL) is not a URL: it should look like https://cas.example.com.');
  }
  if (url.username || url.password) {
    throw invalidConfig('The CAS URL (`casUrl`, CAS_URL) must not hold credentials: pass `apiKey` and `apiSecret`.');
  }
  const local = LOCAL_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) {
    throw invalidConfig(
      `The CAS URL (\`casUrl\`, CAS_URL) must use https, so the API secret is never sent in clear text; got ${url.protocol}//${url.host}. Only localhost may use http.`,
    );
  }
  return url;
}

/** A number of ms (above 0 when `positive`, else 0 or more), or `fallback` when not given. */
export function checkDuration(name: string, value: number | undefined, fallback: number, positive: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    throw invalidConfig(`\`${name}\` must be a finite number of ms${positive ? ' above 0' : ', 0 or more'}; got ${String(value)}.`);
  }
  return value;
}
