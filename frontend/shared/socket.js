// One WebSocket to Willow that comes back by itself after a drop and resumes every stream
// (a conversation or, later, a room) from the last `seq` it saw, so nothing is lost or doubled.
//
// Pages listen with `socket.on(type, handler)`: the same registry later features use
// (the helplines card, rooms) to add their own handlers without touching this file.

const PING_EVERY_MS = 20000;
// A phone that changed network can keep a dead socket open for minutes; if nothing arrives
// for this long (pong included) we assume it is gone and reconnect.
const SILENCE_LIMIT_MS = 50000;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 15000;
const MAX_RESUME_POINTS = 50;
// Close codes after which trying again cannot help: a refused origin, a session that ended.
const FINAL_CLOSE_CODES = new Set([4401, 4403]);

export function socketUrl(path = "/ws") {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

// Which stream an event belongs to, and its place in it. An `ack` repeats the message's seq
// but is a direct reply, not part of the stream, so it must never move the resume point.
// `reported` and a report's `alert` name a message by its `seq` in the same way.
const NOT_STREAM_EVENTS = new Set(["ack", "reported", "alert"]);

function streamPoint(event) {
  if (NOT_STREAM_EVENTS.has(event.type) || typeof event.seq !== "number") return null;
  const id = event.conversation_id ?? event.room_id ?? event.stream_id;
  return typeof id === "number" ? { id, seq: event.seq } : null;
}

export class StreamSocket {
  // `hello(resume)` returns the hello event to send on every (re)connection.
  constructor({ url = socketUrl(), hello }) {
    this.url = url;
    this.hello = hello;
    this.state = "idle"; // idle | connecting | open | reconnecting | closed
    this.handlers = new Map();
    this.seqs = new Map();
    this.retryMs = FIRST_RETRY_MS;
    this.ws = null;
    this.timers = { retry: 0, ping: 0, silence: 0 };
  }

  // Listen for one event type ("*" for all, "state" for connection changes); returns "stop".
  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(handler);
    return () => this.handlers.get(type).delete(handler);
  }

  emit(type, value) {
    for (const key of [type, "*"]) {
      for (const handler of this.handlers.get(key) ?? []) {
        try {
          handler(value);
        } catch (error) {
          console.error("handler failed", type, error);
        }
      }
    }
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    for (const handler of this.handlers.get("state") ?? []) handler(state);
  }

  connect() {
    if (this.state === "open" || this.state === "connecting") return;
    clearTimeout(this.timers.retry);
    this.setState(this.state === "idle" || this.state === "closed" ? "connecting" : "reconnecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      if (ws !== this.ws) return;
      ws.send(JSON.stringify(this.hello(this.resumePoints())));
      this.keepAlive();
    });
    ws.addEventListener("message", (frame) => {
      if (ws === this.ws) this.receive(frame.data);
    });
    ws.addEventListener("close", (closed) => {
      if (ws === this.ws) this.dropped(closed.code);
    });
  }

  receive(text) {
    let event;
    try {
      event = JSON.parse(text);
    } catch {
      return;
    }
    this.keepAlive();
    if (event.type === "welcome") {
      this.retryMs = FIRST_RETRY_MS;
      this.setState("open");
    }
    const point = streamPoint(event);
    if (point) {
      // A repeat of something already handled (a resume overlapping live news) is dropped.
      if (point.seq <= (this.seqs.get(point.id) ?? 0)) return;
      this.seqs.set(point.id, point.seq);
    }
    this.emit(event.type, event);
  }

  dropped(code) {
    this.stopTimers();
    this.ws = null;
    if (this.state === "closed") return;
    if (FINAL_CLOSE_CODES.has(code)) {
      this.setState("closed");
      return;
    }
    this.setState("reconnecting");
    const wait = this.retryMs * (0.75 + Math.random() * 0.5);
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    this.timers.retry = setTimeout(() => this.connect(), wait);
  }

  keepAlive() {
    clearTimeout(this.timers.silence);
    this.timers.silence = setTimeout(() => this.ws?.close(), SILENCE_LIMIT_MS);
    if (!this.timers.ping) {
      this.timers.ping = setInterval(() => this.send({ type: "ping" }), PING_EVERY_MS);
    }
  }

  stopTimers() {
    clearTimeout(this.timers.silence);
    clearInterval(this.timers.ping);
    this.timers.ping = 0;
  }

  // Send an event if connected and welcomed; returns false when it could not be sent now.
  send(event) {
    if (this.state !== "open" && event.type !== "ping") return false;
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(event));
    return true;
  }

  // Drop the connection for good (logging out, leaving the page).
  close() {
    this.setState("closed");
    clearTimeout(this.timers.retry);
    this.stopTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000);
  }

  lastSeq(streamId) {
    return this.seqs.get(streamId) ?? 0;
  }

  // Start following a stream from a known point (0: from the beginning).
  follow(streamId, seq = 0) {
    this.seqs.set(streamId, seq);
  }

  forget(streamId) {
    this.seqs.delete(streamId);
  }

  resumePoints() {
    return [...this.seqs]
      .slice(-MAX_RESUME_POINTS)
      .map(([id, seq]) => ({ conversation_id: id, last_seq: seq }));
  }
}
