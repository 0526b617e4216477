// Type-checks the diagnostics of the shipped .d.ts under `tsc --strict`: the error fields,
// the debug log's entries, the warning codes, the user switch.
import type { LogEntry, TokenWardenError, TokenWardenOperation, WarningCode } from '../pkg/types.js';
import { createTokenManager, isTokenWardenError } from '../pkg/index.js';

const entries: LogEntry[] = [];
const tm = await createTokenManager({
  refreshUrl: '/auth/refresh',
  debug: true,
  logger: (entry: LogEntry) => {
    entries.push(entry);
    switch (entry.type) {
      case 'refresh-scheduled':
        console.log(entry.at, entry.inMs);
        break;
      case 'sent': {
        const attempt: number | null = entry.attempt;
        console.log(entry.operation, entry.endpoint, attempt);
        break;
      }
      case 'answered': {
        const status: number | null = entry.status;
        console.log(entry.operation, status, entry.outcome);
        break;
      }
      case 'retry-scheduled':
        console.log(entry.attempt, entry.code, entry.at, entry.inMs);
        break;
      case 'gave-up':
        console.log(entry.attempt, entry.code);
        break;
      case 'waiting':
        console.log(entry.want, entry.count);
        break;
      case 'request': {
        const bearer: boolean = entry.bearer;
        console.log(entry.origin, bearer, entry.reason);
        break;
      }
      case 'unauthorized-retry':
        console.log(entry.origin);
        break;
      case 'tab-message':
        console.log(entry.direction, entry.message);
        break;
      case 'state':
        console.log(entry.state);
        break;
      case 'session-ended':
        console.log(entry.reason);
        break;
      case 'warning': {
        const code: WarningCode = entry.code;
        console.log(code);
        break;
      }
      default: {
        const never: never = entry;
        console.log(never);
      }
    }
  },
});
// @ts-expect-error a log entry never has a token member
const bad: LogEntry = { type: 'request', origin: 'https://a', bearer: true, reason: 'token', token: 'x' };
// @ts-expect-error debug is a boolean
await createTokenManager({ refreshUrl: '/r', debug: 'yes' });

tm.on('session-ended', ({ reason }) => {
  if (reason === 'user-changed') console.log('drop the old user data');
});

try {
  await tm.signIn('/auth/login', { body: '{}' });
} catch (e: unknown) {
  if (isTokenWardenError(e)) {
    const err: TokenWardenError = e;
    const operation: TokenWardenOperation | null = err.operation;
    const endpoint: string | null = err.endpoint;
    const status: number | null = err.status;
    const serverError: string | null = err.serverError;
    const description: string | null = err.serverErrorDescription;
    // @ts-expect-error operation is one of the four names
    const other: TokenWardenOperation = 'login';
    console.log(operation, endpoint, status, serverError, description, other);
  }
}
const warning: WarningCode = 'logout_failed';
// @ts-expect-error an unknown warning code
const unknown: WarningCode = 'whatever';
console.log(entries, bad, warning, unknown);
