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
 * The key and secret travel as header values: a line break, NUL or a character beyond Latin-1
 * makes `fetch` throw an error that quotes the value, and whitespace at either end is silently
 * dropped, so CAS would see another value. The message names the setting, never the value.
 */
function checkHeaderValue(setting: (typeof SETTINGS)[number], value: string): void {
  const name = `The ${setting.what} (\`${setting.name}\`, ${setting.env})`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000\r\n]|[^\u0000-\u00ff]/.test(value)) {
    throw invalidConfig(
      `${name} holds a character an HTTP header cannot carry (a line break, NUL, or one beyond Latin-1): check it for a pasted line break or a stray character.`,
    );
  }
  if (value !== value.trim()) {
    throw invalidConfig(`${name} starts or ends with whitespace, which HTTP would drop: remove it.`);
  }
}

/**
 * Checks the CAS settings and returns CAS's URL. Throws `invalid-config` with a message that
 * names the setting, and never quotes the key or the secret: a missing setting (followed by
 * `missingHint`), a key or secret that is not a valid header value, a URL that is not https
 * (except on localhost), or one holding credentials, a query or a fragment.
 */
export function checkCasConfig(config: Partial<CasCredentials>, missingHint = ''): URL {
  for (const setting of SETTINGS) {
    const value: unknown = config[setting.name];
    if (typeof value !== 'string' || value.trim() === '') {
      throw invalidConfig(`The ${setting.what} is missing: pass \`${setting.name}\` or set ${setting.env}.${missingHint}`);
    }
  }
  for (const setting of SETTINGS.slice(1)) checkHeaderValue(setting, config[setting.name] as string);
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
  if (url.href.includes('?') || url.href.includes('#')) {
    throw invalidConfig(
      'The CAS URL (`casUrl`, CAS_URL) must not hold a query (?…) or a fragment (#…): give the base URL, e.g. https://cas.example.com, and the token path as `path`.',
    );
  }
  const local = LOCAL_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) {
    throw invalidConfig(
      `The CAS URL (\`casUrl\`, CAS_URL) must use https, so the API secret is never sent in clear text; got ${url.protocol}//${url.host}. Only localhost may use http.`,
    );
  }
  return url;
}

/** The longest delay `setTimeout` takes; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A number of ms (above 0 when `positive`, else 0 or more), or `fallback` when not given. A
 * positive one is a timeout, so it must also fit `setTimeout` (under 24.8 days).
 */
export function checkDuration(name: string, value: number | undefined, fallback: number, positive: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && (value === 0 || value > MAX_TIMER_MS))) {
    const range = positive ? ` above 0 and at most ${MAX_TIMER_MS}` : ', 0 or more';
    throw invalidConfig(`\`${name}\` must be a finite number of ms${range}; got ${String(value)}.`);
  }
  return value;
}

/** A whole number above 0, or `fallback` when not given. */
export function checkCount(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw invalidConfig(`\`${name}\` must be a whole number above 0; got ${String(value)}.`);
  }
  return value;
}
