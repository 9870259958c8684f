// api.js: the session API (validate, join, end, notes, summary); the link's token travels as a Bearer header.
export class ApiError extends Error {
  constructor(status, code, message, detail = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail; // the whole error object, e.g. linkOpensAt for not_open
  }
}

// keepalive: the request outlives the page (a save as the tab closes).
export async function call(name, token, body = {}, { keepalive = false } = {}) {
  let res;
  try {
    res = await fetch(`/api/sessions/${name}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      keepalive,
    });
  } catch {
    throw new ApiError(0, 'network', 'The server could not be reached.');
  }
  let data = null;
  try { data = await res.json(); } catch { /* an empty or non-JSON answer is handled below */ }
  if (!res.ok || !data || data.error) {
    const e = (data && data.error) || {};
    throw new ApiError(res.status, e.code || `http_${res.status}`, e.message || `The server answered ${res.status}.`, e);
  }
  return data;
}
