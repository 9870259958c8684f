// codes.js: every error code the page knows, in words, and which of them stop the page, offer a retry or only warn.

// One line for each code the API or the relay can send; the server's own table is checked against this list.
const LINES = {
  method_not_allowed: 'The server does not accept that kind of request.',
  unsupported_media_type: 'The server did not understand the request.',
  body_too_large: 'The request was too large.',
  invalid_json: 'The server could not read the request.',
  not_an_object: 'The server could not read the request.',
  invalid_field: 'Part of the request was not valid.',
  missing_token: 'The link has no session code in it.',
  forbidden: 'This is not allowed with this link.',
  unknown_link: 'This link does not work.',
  link_expired: 'This link has expired.',
  session_ended: 'This session has ended.',
  not_open: 'This link does not open yet.',
  conflict: 'The session cannot do that right now.',
  not_found: 'The server has no such page or session.',
  query_not_allowed: 'The link was sent in a way the server refuses.',
  not_joined: 'You have not joined this session yet.',
  busy: 'The server is busy. Try again in a moment.',
  unavailable: 'The server is not available. Try again in a moment.',
  internal: 'Something went wrong on the server. Try again in a moment.',
  storage_full: 'The server could not save this right now. Try again later.',
  name_taken: 'That name is already taken.',
  insufficient_funds: 'There is not enough money in the wallet.',
  already_joined: 'This connection has already joined the session.',
  bad_candidate: 'The connection details were not valid.',
  bad_client_id: 'The message could not be matched up.',
  bad_frame: 'The server could not read what was sent.',
  bad_message: 'That message cannot be sent: it is empty or too long.',
  bad_sdp: 'The call could not be set up.',
  media_not_allowed: 'Calls are not part of this session.',
  video_not_allowed: 'Video is not part of this session.',
  peer_absent: 'The other participant is not connected.',
  rate_limited: 'Too much at once. Slow down a little.',
  limit_reached: 'You cannot send more messages in this session.',
  replaced: 'This session was opened somewhere else.',
  unknown_type: 'The server did not understand what was sent.',
  missing_api_key: 'Sign in with an API key.',
  invalid_api_key: 'This API key does not work: it is mistyped or was revoked.',
  idempotency_key_reused: 'This request was already made with different details.',
  idempotency_key_in_use: 'The same request is still being handled. Try again in a moment.',
  file_type_not_allowed: 'Only JPEG, PNG and WebP pictures and PDF documents can be shared.',
  file_too_large: 'That file is too large to share.',
  session_files_full: 'This session has no room for more files.',
  file_gone: 'This file is no longer available.',
  recording_limit: 'The recording has reached its size limit, so it stopped.',
  recording_storage_full: 'The server has no room for more recordings, so it stopped.',
  recording_not_running: 'The recording is not running.',
};

export const CODES = Object.freeze(Object.keys(LINES));

// After these the link or the session is gone for this page: it stops and shows the error state.
export const FATAL = new Set(['unknown_link', 'missing_token', 'link_expired', 'session_ended', 'forbidden', 'not_open', 'replaced']);

// The error state offers to try again for these, as for any code that is not fatal.
export const RETRY = new Set(['replaced', 'network']);

// A refusal from the relay that the user should hear about while the room carries on.
export const WARN = new Set(['rate_limited', 'internal', 'storage_full', 'busy', 'bad_message', 'limit_reached', 'file_gone']);

// The error state's title, what happened and what to do next. `network` is the page's own: no server answered.
const PAGES = {
  unknown_link: ['This link does not work', 'The link may be mistyped or cut short, or it was replaced by a newer one.', 'Open the link again from your booking message, or ask the shop to send a new link.'],
  link_expired: ['This link has expired', 'The time to join this session has passed before it started.', 'Contact the shop to book a new session or to ask for a new link.'],
  session_ended: ['This session has ended', 'It is over, so the link cannot be used again.', 'If something went wrong, contact the shop with your booking details.'],
  not_open: ['It is too early to join', 'This link opens shortly before the session starts.', 'Keep this page open: it opens the session by itself at that time.'],
  replaced: ['This session is open somewhere else', 'The link was opened in another tab or on another device, which took the session over.', 'Close this tab, or reload it to bring the session back here.'],
  network: ['Cannot reach the server', 'Your device seems to be offline, or the server did not answer.', 'Check your connection, then try again.'],
};
PAGES.missing_token = PAGES.unknown_link;

// What happened to the money, in the words of the side reading it. An expired link means the session never
// started, so nothing was charged; an ended one may have run. The '' line is for a link whose role the page
// does not know (validate's refusal does not say it), and reads right for both.
const MONEY = {
  link_expired: {
    user: 'Nothing was charged: the full price is back in your wallet.',
    astrologer: 'The session never started, so the customer got the full price back.',
    '': 'The session never started, so nothing was charged and the customer got the full price back.',
  },
  session_ended: {
    user: 'You were charged only for the time you were both connected, and the rest is back in your wallet (all of it if the session never started).',
    astrologer: 'The customer was charged only for the time you were both connected and got the rest back (all of it if the session never started).',
    '': 'Only the time both were connected was charged; the customer got the rest of the price back (all of it if the session never started).',
  },
};

// role: 'user', 'astrologer' or '' when not known; '' too for a code that has nothing to say about money.
export function moneyLine(code, role) {
  const m = MONEY[code];
  return m ? m[role] || m[''] : '';
}

// One line for a code; the server's own message, when there is one, says it best.
export function line(code, message) {
  return message || LINES[code] || 'The server refused that.';
}

// [title, what happened, what to do next] for the error state.
export function errorPage(code, message) {
  return PAGES[code] || ['Something went wrong', message || LINES[code] || 'The session could not be opened.', 'Try again in a moment. If it keeps failing, contact the shop.'];
}
