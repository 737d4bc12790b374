// The staff console: log in, go available, see the queue, take chats, talk, end.
// The session cookie is HttpOnly; the CSRF token is kept only in this page's memory.

import { HttpError, getJson, postJson } from "../shared/http.js";
import { setLanguage, t } from "../shared/i18n.js";
import { StreamSocket } from "../shared/socket.js";
import { ChatTabs } from "./chats.js";
import { QueueView } from "./queue.js";

const $ = (id) => document.getElementById(id);
const ADVISING_ROLES = ["adviser", "supervisor"];

const state = { csrf: null, available: false, role: null };
let socket = null;

const queue = new QueueView({ rows: $("queue-rows"), summary: $("queue-summary") });
const chats = new ChatTabs({
  tabList: $("chat-tabs"),
  panels: $("chat-panels"),
  template: $("chat-template"),
  empty: $("no-chats"),
  details: (id) => queue.details(id),
});

const TAKE_ERRORS = {
  queue_empty: "staff.error.queue_empty",
  at_capacity: "staff.error.at_capacity",
  forbidden: "staff.error.forbidden",
};

function showLogin(message) {
  $("console").hidden = true;
  $("me").hidden = true;
  $("not-adviser").hidden = true;
  $("login").hidden = false;
  $("login-error").hidden = !message;
  $("login-error").textContent = message ?? "";
  $("username").focus();
}

function showConsole(staff) {
  $("login").hidden = true;
  $("me").hidden = false;
  $("me-name").textContent = t("staff.signed_in_as", { name: staff.display_name });
  const advising = ADVISING_ROLES.includes(staff.role);
  $("console").hidden = !advising;
  $("availability").hidden = !advising;
  $("availability-state").hidden = !advising;
  $("not-adviser").hidden = advising;
}

function drawAvailability() {
  const button = $("availability");
  button.setAttribute("aria-pressed", String(state.available));
  $("availability-state").textContent = state.available ? t("staff.status.available") : t("staff.status.away");
  $("take-next").disabled = !state.available || queue.length === 0;
  $("take-hint").textContent = state.available ? "" : t("staff.queue.need_available");
}

const CONNECTION_TEXT = {
  connecting: "staff.connection.connecting",
  reconnecting: "staff.connection.lost",
};

function connect() {
  socket = new StreamSocket({ hello: (resume) => ({ type: "hello", v: 1, resume }) });
  chats.socket = socket;
  socket.on("state", (value) => {
    const key = CONNECTION_TEXT[value];
    $("connection").textContent = key ? t(key) : "";
  });
  socket.on("welcome", (welcome) => {
    state.role = welcome.role;
    state.available = Boolean(welcome.available);
    drawAvailability();
    chats.reconnected(welcome.conversations ?? []);
  });
  socket.on("queue_snapshot", (snapshot) => {
    queue.update(snapshot);
    drawAvailability();
  });
  socket.on("status", (status) => {
    state.available = Boolean(status.available);
    drawAvailability();
  });
  socket.on("assigned", (event) => chats.open(event.conversation_id, { focus: true }));
  socket.on("message", (event) => chats.open(event.conversation_id).message(event));
  socket.on("ack", (ack) => chats.get(ack.conversation_id)?.transcript.confirm(ack.client_id, ack.seq));
  socket.on("typing", (event) => {
    if (event.from === "visitor") chats.get(event.conversation_id)?.visitorTyping.update(event.active);
  });
  socket.on("ended", (event) => chats.open(event.conversation_id).end(event));
  socket.on("error", onError);
  socket.connect();
}

function onError(event) {
  if (event.ref === "hello" && event.code === "unauthorized") {
    stop();
    showLogin(t("staff.login.expired"));
    return;
  }
  const key = TAKE_ERRORS[event.code] ?? "staff.error.general";
  $("take-hint").textContent = t(key);
}

function stop() {
  socket?.close();
  socket = null;
  chats.closeAll();
  state.csrf = null;
}

function start(me) {
  state.csrf = me.csrf_token;
  showConsole(me.staff);
  connect();
}

async function logIn(event) {
  event.preventDefault();
  const submit = $("login-submit");
  submit.disabled = true;
  try {
    const me = await postJson("/api/staff/login", {
      username: $("username").value.trim(),
      password: $("password").value,
    });
    $("password").value = "";
    start(me);
  } catch (error) {
    const wrong = error instanceof HttpError && (error.status === 401 || error.status === 422);
    showLogin(wrong ? t("staff.login.failed") : t("staff.login.error"));
  } finally {
    submit.disabled = false;
  }
}

async function logOut() {
  try {
    await postJson("/api/staff/logout", {}, { "X-CSRF-Token": state.csrf ?? "" });
  } catch {
    // The session may already be gone; either way the console is closed below.
  }
  stop();
  showLogin();
}

async function boot() {
  await setLanguage("en");
  $("login-form").addEventListener("submit", logIn);
  $("logout").addEventListener("click", logOut);
  $("availability").addEventListener("click", () => {
    socket?.send({ type: "set_available", available: !state.available });
  });
  $("take-next").addEventListener("click", () => {
    $("take-hint").textContent = "";
    socket?.send({ type: "take_next" });
  });
  try {
    start(await getJson("/api/staff/me"));
  } catch {
    showLogin();
  }
}

boot();
