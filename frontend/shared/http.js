// Small JSON helpers for Willow's own API (same origin only; nothing else is ever asked).

export class HttpError extends Error {
  constructor(status, detail) {
    super(`HTTP ${status}`);
    this.status = status;
    this.detail = detail;
  }
}

async function call(method, path, body, headers = {}) {
  const options = { method, headers: { ...headers }, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new HttpError(response.status, data?.detail);
  return data;
}

export const getJson = (path, headers) => call("GET", path, undefined, headers);
export const postJson = (path, body, headers) => call("POST", path, body ?? {}, headers);
