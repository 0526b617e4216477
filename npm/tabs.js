// What the tabs of one app tell each other over a BroadcastChannel: signed in, refreshed,
// ended. Never a token: a tab that needs one refreshes through the shared cookie.

const REASONS = ['logout', 'invalid_grant', 'expired'];
/**
 * The ends other tabs share: a logout, a rejected cookie. An `expired` end (one tab's
 * refresh gave up) says nothing about the others' tokens, so it is not told.
 */
const SHARED = ['logout', 'invalid_grant'];

/** Opens the channel `name`; `onMessage` gets well-formed messages only. Null without BroadcastChannel. */
export function openChannel(name, onMessage) {
  if (typeof globalThis.BroadcastChannel !== 'function') return null;
  let channel;
  try {
    channel = new BroadcastChannel(name);
  } catch {
    return null;
  }
  channel.onmessage = ({ data }) => {
    const message = read(data);
    if (message) onMessage(message);
  };
  return channel;
}

/** The message for an event of ours worth telling other tabs about, or null. */
export function messageFor(event, payload) {
  if (event === 'state' && payload === 'signed-in') return { v: 1, type: 'signed-in' };
  if (event === 'refreshed') return { v: 1, type: 'refreshed', expiresAt: payload.expiresAt };
  if (event === 'session-ended' && SHARED.includes(payload.reason)) {
    return { v: 1, type: 'ended', reason: payload.reason };
  }
  return null;
}

/** A message from another tab, checked field by field; anything else is null. */
function read(data) {
  if (data === null || typeof data !== 'object' || data.v !== 1) return null;
  switch (data.type) {
    case 'signed-in':
      return { type: 'signed-in' };
    case 'refreshed':
      return Number.isFinite(data.expiresAt) && data.expiresAt >= 0 ? { type: 'refreshed' } : null;
    case 'ended': {
      const reason = REASONS.indexOf(data.reason);
      return reason < 0 ? null : { type: 'ended', reason };
    }
    default:
      return null;
  }
}
