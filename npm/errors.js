// TokenWardenError: a real `Error` with `name = 'TokenWardenError'` and a stable `code`.
// Messages never contain a token. Errors decided by the core carry the core's message;
// the ones the runtime decides itself are below.

const NAME = 'TokenWardenError';

/** A TokenWardenError with `code` and `message`. */
export function twError(code, message) {
  /** @type {Error & { code?: string }} */
  const error = new Error(message);
  error.name = NAME;
  error.code = code;
  return error;
}

/** True when `value` is an error thrown or rejected by token-warden. */
export function isTokenWardenError(value) {
  return value instanceof Error && value.name === NAME && typeof (/** @type {any} */ (value).code) === 'string';
}

/** `invalid_options`, naming the field. */
export const invalidOption = (field, reason) =>
  twError('invalid_options', `invalid option \`${field}\`: ${reason}`);

export const disposed = () => twError('disposed', 'the token manager was disposed');
export const notSignedIn = () => twError('not_signed_in', 'not signed in');
export const tokenExpired = () =>
  twError('token_expired', 'no valid access token could be obtained in time');
