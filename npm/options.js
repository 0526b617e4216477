// `TokenManagerOptions`: every field type-checked, unknown fields refused (a typo such as
// `refreshURL` must not be silently ignored). Throws `invalid_options` naming the field.

import { invalidOption } from './errors.js';

const FIELDS = [
  'refreshUrl',
  'logoutUrl',
  'allowedOrigins',
  'refreshLeadSeconds',
  'csrfHeader',
  'requestTimeoutMs',
  'retry',
  'defaultLifetimeSeconds',
  'maxTokenBytes',
  'exposeAccessToken',
  'maxRefreshesPerMinute',
];
const RETRY_FIELDS = ['maxAttempts', 'baseDelayMs', 'maxDelayMs'];

/** The default anti-CSRF header; servers check it exists (a cross-site form cannot set it). */
export const DEFAULT_CSRF_HEADER = { name: 'X-Requested-With', value: 'token-warden' };

const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
// An HTTP token (RFC 9110 §5.6.2).
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PRINTABLE = /^[ -~]+$/;

/** The validated options, with defaults filled in and URLs made absolute. */
export function parseOptions(options, prims) {
  if (!isPlainObject(options)) throw invalidOption('options', 'expected an object');
  for (const key of Object.keys(options)) {
    if (!FIELDS.includes(key)) throw invalidOption(key, `unknown option; known options are ${FIELDS.join(', ')}`);
  }
  const refreshUrl = url(prims, 'refreshUrl', options.refreshUrl);
  if (!refreshUrl) throw invalidOption('refreshUrl', 'is required');
  const o = {
    refreshUrl,
    logoutUrl: url(prims, 'logoutUrl', options.logoutUrl),
    allowedOrigins: origins(prims, options.allowedOrigins),
    refreshLeadMs: number(options, 'refreshLeadSeconds', 0, 86400, 60) * 1000,
    timeoutMs: number(options, 'requestTimeoutMs', 1, 600000, 10000),
    defaultLifetimeMs: number(options, 'defaultLifetimeSeconds', 1, 31536000, 0) * 1000,
    maxTokenBytes: number(options, 'maxTokenBytes', 16, 1048576, 8192),
    maxRefreshesPerMinute: number(options, 'maxRefreshesPerMinute', 1, 600, 10),
    expose: options.exposeAccessToken ?? false,
    csrf: csrf(options.csrfHeader),
    ...retry(options.retry),
  };
  if (typeof o.expose !== 'boolean') throw invalidOption('exposeAccessToken', 'expected true or false');
  if (o.baseDelayMs > o.maxDelayMs) throw invalidOption('baseDelayMs', 'must not exceed maxDelayMs');
  return o;
}

function number(object, field, min, max, fallback, prefix = '') {
  const value = object[field];
  if (value === undefined) return fallback;
  const name = prefix + field;
  if (typeof value !== 'number') throw invalidOption(name, 'expected a number');
  if (!Number.isFinite(value) || value < min || value > max) {
    throw invalidOption(name, `expected a number from ${min} to ${max}`);
  }
  return value;
}

function url(prims, field, value) {
  if (value === undefined || value === null) return null;
  let text;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'object') text = String(value); // a `URL` stringifies to its href
  else throw invalidOption(field, 'expected a URL string');
  const href = prims.absolute(text);
  if (!href) throw invalidOption(field, 'not a valid URL');
  if (!/^https?:\/\//.test(href)) throw invalidOption(field, 'must be an http(s) URL');
  return href;
}

function origins(prims, value) {
  const field = 'allowedOrigins';
  if (value === undefined) {
    const origin = globalThis.location?.origin;
    if (!origin || origin === 'null') throw invalidOption(field, 'there is no page origin to default to; list the origins');
    return [origin];
  }
  if (!Array.isArray(value)) throw invalidOption(field, 'expected an array of origins');
  return value.map((item) => {
    if (typeof item !== 'string') throw invalidOption(field, 'every entry must be a string');
    if (item.includes('*')) throw invalidOption(field, 'wildcards are not allowed; list exact origins');
    const origin = prims.origin(item);
    if (!origin || !/^https?:\/\//.test(origin)) throw invalidOption(field, 'every entry must be an http(s) origin');
    // `https://api.example.com/v1` would silently widen to the whole origin.
    if (prims.absolute(item).replace(/\/+$/, '') !== origin) {
      throw invalidOption(field, 'an origin has no path, query or fragment');
    }
    return origin;
  });
}

function retry(value) {
  const fallback = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 30000 };
  if (value === undefined) return fallback;
  if (!isPlainObject(value)) throw invalidOption('retry', 'expected { maxAttempts, baseDelayMs, maxDelayMs }');
  for (const key of Object.keys(value)) {
    if (!RETRY_FIELDS.includes(key)) throw invalidOption(`retry.${key}`, `unknown option; known options are ${RETRY_FIELDS.join(', ')}`);
  }
  return {
    maxAttempts: Math.floor(number(value, 'maxAttempts', 1, 100, 5, 'retry.')),
    baseDelayMs: number(value, 'baseDelayMs', 1, 3600000, 1000, 'retry.'),
    maxDelayMs: number(value, 'maxDelayMs', 1, 3600000, 30000, 'retry.'),
  };
}

function csrf(value) {
  const field = 'csrfHeader';
  if (value === undefined) return DEFAULT_CSRF_HEADER;
  if (value === null) return null;
  const { name, value: text } = isPlainObject(value) ? value : {};
  if (typeof name !== 'string' || typeof text !== 'string') {
    throw invalidOption(field, 'expected { name: string, value: string } or null');
  }
  if (!HEADER_NAME.test(name)) throw invalidOption(field, 'the header name must be an HTTP token');
  if (/^(authorization|cookie)$/i.test(name)) throw invalidOption(field, 'the header name cannot be Authorization or Cookie');
  if (!PRINTABLE.test(text)) throw invalidOption(field, 'the header value must be printable ASCII');
  return { name, value: text };
}
