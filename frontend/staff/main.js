// The staff console: log in, go available, see the queue, take chats, talk, end.
// The session cookie is HttpOnly; the CSRF token is kept only in this page's memory.

import { HttpError, getJson, postJson } from "../shared/http.js";
import { setLanguage, t } from "../shared/i18n.js";
import { resendLater } from "../shared/resend.js";
import { StreamSocket } from "../shared/socket.js";
import { AlertsPanel, fromRoomAlert } from "./alerts.js";
import { AuditPanel } from "./audit.js";
import { Board } from "./board.js";
import { CannedAdmin } from "./canned-admin.js";
import { ChatTabs, setQuietWords } from "./chats.js";
import { DirectoryPanel } from "./directory.js";
import { EscalateDialog } from "./escalate.js";
import { KeyboardShortcuts } from "./keys.js";
import { Notifier } from "./notify.js";
import { QueueView } from "./queue.js";
import { Supervision } from "./supervise.js";
import { installWaitingTools } from "./waiting.js";

const $ = (id) => document.getElementById(id);
const ADVISING_ROLES = ["adviser", "supervisor"];
const AUDIT_ROLES = ["supervisor", "admin"];

const state = { csrf: null, available: false, role: null };
let socket = null;

const queue = new QueueView({ rows: $("queue-rows"), summary: $("queue-summary") });
const chats = new ChatTabs({
  tabList: $("chat-tabs"),
  panels: $("chat-panels"),
  template: $("chat-template"),
  empty: $("no-chats"),
  details: (id) => queue.details(id),
  csrf: () => state.csrf,
  escalate: (id, opener) => escalateDialog.open(id, opener),
});
const escalateDialog = new EscalateDialog((event) => socket?.send(event) ?? false);
const alerts = new AlertsPanel({ openChat, csrf: () => state.csrf });
new DirectoryPanel();
new AuditPanel();
new CannedAdmin(() => state.csrf);
new KeyboardShortcuts(chats);
const notifier = new Notifier({ chats, queue, available: () => state.available });
const supervision = new Supervision(chats, () => socket);
const board = new Board({ queue, openChat });

// A supervisor opens any chat from an alert: she reads it (and may escalate), not writes.
function openChat(conversationId) {
  const known = chats.get(conversationId);
  chats.open(conversationId, { focus: true, observer: !known });
  chats.select(conversationId);
  if (!known && state.role === "supervisor") supervision.offer(chats.get(conversationId));
  if (!known) socket?.send({ type: "join", conversation_id: conversationId, last_seq: socket.lastSeq(conversationId) });
  chats.get(conversationId)?.tab.focus();
}

const TAKE_ERRORS = {
  queue_empty: "staff.error.queue_empty",
  at_capacity: "staff.error.at_capacity",
  not_trained: "staff.error.not_trained",
  forbidden: "staff.error.forbidden",
};

function showLogin(message) {
  $("console").hidden = true;
  $("enrol").hidden = true;
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
  $("console").hidden = false;
  $("queue-panel").hidden = !advising;
  $("chats-panel").hidden = !advising;
  $("alerts-panel").hidden = staff.role !== "supervisor";
  board.show(staff.role === "supervisor");
  $("admin-link").hidden = staff.role !== "admin";
  $("records").hidden = !AUDIT_ROLES.includes(staff.role);
  $("canned-admin").hidden = staff.role !== "admin";
  $("availability").hidden = !advising;
  $("availability-state").hidden = !advising;
  $("not-adviser").hidden = advising;
  alerts.reset();
  if (staff.role === "supervisor") alerts.loadOpen();
}

function drawAvailability() {
  const button = $("availability");
  button.setAttribute("aria-pressed", String(state.available));
  $("availability-state").textContent = state.available ? t("staff.status.available") : t("staff.status.away");
  const full = state.capacity > 0 && chats.activeCount >= state.capacity;
  $("take-next").disabled = !state.available || queue.length === 0 || full;
  $("take-hint").textContent = !state.available
    ? t("staff.queue.need_available")
    : full
      ? t("staff.queue.at_capacity", { count: state.capacity })
      : "";
}

const CONNECTION_TEXT = {
  connecting: "staff.connection.connecting",
  reconnecting: "staff.connection.lost",
};

function connect() {
  socket = new StreamSocket({ hello: (resume) => ({ type: "hello", v: 1, resume }) });
  chats.socket = socket;
  installWaitingTools({ socket, chats });
  socket.on("state", (value) => {
    const key = CONNECTION_TEXT[value];
    $("connection").textContent = key ? t(key) : "";
    // A press before the socket is open would be lost, so the button waits for it.
    $("availability").disabled = value !== "open";
  });
  socket.on("welcome", (welcome) => {
    state.role = welcome.role;
    state.available = Boolean(welcome.available);
    state.capacity = Number(welcome.capacity) || 0;
    chats.reconnected(welcome.conversations ?? []);
    drawAvailability();
  });
  socket.on("queue_snapshot", (snapshot) => {
    queue.update(snapshot);
    drawAvailability();
  });
  socket.on("queue_changes", (changes) => {
    queue.applyChanges(changes);
    drawAvailability();
  });
  socket.on("status", (status) => {
    state.available = Boolean(status.available);
    drawAvailability();
  });
  socket.on("assigned", (event) => {
    chats.open(event.conversation_id, { focus: true });
    drawAvailability();
  });
  socket.on("message", (event) => chats.open(event.conversation_id).message(event));
  socket.on("ack", (ack) => chats.get(ack.conversation_id)?.acknowledged(ack));
  socket.on("triage", (event) => chats.get(event.conversation_id)?.describe(event));
  socket.on("flag", (event) => chats.open(event.conversation_id).flag(event));
  socket.on("helplines", (event) => chats.open(event.conversation_id).helplines(event));
  socket.on("escalation", (event) => chats.open(event.conversation_id).escalation(event));
  socket.on("escalation_outcome", (event) => chats.open(event.conversation_id).escalationOutcome(event));
  socket.on("escalated", () => escalateDialog.done());
  socket.on("reported", (event) => {
    chats.reporting = chats.reporting.filter((r) => !(r.id === event.conversation_id && r.seq === event.seq));
    chats.get(event.conversation_id)?.reported(event);
  });
  socket.on("alert", (event) => alerts.add(event));
  socket.on("alert_acknowledged", (event) => alerts.acknowledged(event));
  socket.on("room_alert", (event) => {
    if (event.room && event.alert_id) alerts.add(fromRoomAlert(event));
  });
  socket.on("typing", (event) => {
    if (event.from === "visitor") chats.get(event.conversation_id)?.visitorTyping.update(event.active);
  });
  socket.on("visitor_presence", (event) => chats.get(event.conversation_id)?.presence(event));
  socket.on("ended", (event) => {
    chats.open(event.conversation_id).end(event);
    drawAvailability();
  });
  // Console tools (chat-tools.js): notes, transfer, wrap-up.
  socket.on("note", (event) => chats.open(event.conversation_id).tools.notes.add(event));
  socket.on("transferred", (event) => {
    chats.open(event.conversation_id).tools.transferred(event);
    drawAvailability();
  });
  socket.on("transfer_note", (event) => chats.open(event.conversation_id).tools.transferNote(event));
  socket.on("transfer_done", (event) => {
    const chat = chats.get(event.conversation_id);
    chat?.transcript.addNotice(chat.tools.transfer.done(event.to));
  });
  // A chat handed on no longer counts to capacity: "Take next chat" may be back at once.
  socket.on("transferred_away", (event) => {
    chats.get(event.conversation_id)?.tools.handedOver();
    drawAvailability();
  });
  socket.on("taken_away", (event) => {
    chats.get(event.conversation_id)?.tools.takenAway(event);
    drawAvailability();
  });
  socket.on("wrapped_up", (event) => chats.get(event.conversation_id)?.tools.wrappedUp());
  socket.on("wrapup_pending", (event) => {
    for (const id of event.conversations ?? []) chats.open(id);
  });
  socket.on("error", onError);
  notifier.attach(socket);
  supervision.attach(socket);
  board.attach(socket);
  socket.connect();
}

function onError(event) {
  if (event.ref === "hello" && event.code === "unauthorized") {
    stop();
    showLogin(t("staff.login.expired"));
    return;
  }
  if (routeError(event)) return;
  const key = TAKE_ERRORS[event.code] ?? "staff.error.general";
  $("take-hint").textContent = t(key);
}

// Errors that belong to one place on screen go there, not under the queue.
function routeError(event) {
  const text = t(TAKE_ERRORS[event.code] ?? "staff.error.general");
  if (event.ref === "escalate" && escalateDialog.pending !== null) {
    escalateDialog.showError(event.message && event.code === "invalid" ? `${text} (${event.message})` : text);
    return true;
  }
  if (event.ref === "escalation_outcome") {
    for (const chat of chats.chats.values()) chat.safety.outcomeFailed(event.message ?? text);
    return true;
  }
  if (event.ref === "report") {
    const pending = chats.reporting.shift();
    if (pending) chats.get(pending.id)?.reportFailed(pending.seq);
    return true;
  }
  if (["note", "transfer", "wrap_up"].includes(event.ref) && chats.get(event.conversation_id ?? chats.selectedId)) {
    chats.get(event.conversation_id ?? chats.selectedId).tools.error(event, text);
    return true;
  }
  if (event.ref === "supervise" || event.ref === "take_over") return true; // supervise.js shows it on the chat
  if (event.ref === "join") {
    alerts.showError(t("staff.alerts.join_failed"));
    return true;
  }
  if (event.code === "refused" && event.client_id) {
    for (const chat of chats.chats.values()) if (chat.refused(event.client_id, event.reason)) return true;
  }
  if (event.code === "retry" && event.client_id) {
    // Maybe stored, maybe not: the same client_id again, until it is acked (stored once).
    const chat = [...chats.chats.values()].find((c) => c.transcript.pendingBody(event.client_id) !== null);
    if (chat) resendLater(event.client_id, () => chat.resendOne(event.client_id));
    return true;
  }
  return false;
}

function stop() {
  socket?.close();
  socket = null;
  chats.closeAll();
  notifier.reset();
  state.csrf = null;
}

function start(me) {
  state.csrf = me.csrf_token;
  if (me.staff.second_factor_needed) {
    showEnrol();
    return;
  }
  $("availability").disabled = true;
  showConsole(me.staff);
  connect();
}

async function logIn(event) {
  event.preventDefault();
  const submit = $("login-submit");
  submit.disabled = true;
  try {
    const body = { username: $("username").value.trim(), password: $("password").value };
    if (!$("code-field").hidden) body.code = $("code").value.trim();
    const me = await postJson("/api/staff/login", body);
    $("password").value = "";
    $("code").value = "";
    $("code-field").hidden = true;
    start(me);
  } catch (error) {
    loginRefused(error);
  } finally {
    submit.disabled = false;
  }
}

function loginRefused(error) {
  const status = error instanceof HttpError ? error.status : 0;
  if (status === 401 && error.detail === "code_required") {
    $("code-field").hidden = false;
    showLogin(t("staff.login.code_needed"));
    $("code").focus();
    return;
  }
  $("code").value = "";
  if (status === 429) showLogin(t("staff.login.too_many"));
  else showLogin(status === 401 || status === 422 ? t("staff.login.failed") : t("staff.login.error"));
}

// Supervisors and admins set up two-step login before anything else (where it is required).
async function showEnrol() {
  $("login").hidden = true;
  $("console").hidden = true;
  $("enrol").hidden = false;
  $("enrol-form").hidden = false;
  $("enrol-setup").hidden = false;
  $("enrol-done").hidden = true;
  $("enrol-error").hidden = true;
  const enrolment = await postJson("/api/staff/second-factor/begin", {}, { "X-CSRF-Token": state.csrf });
  $("enrol-secret").textContent = enrolment.secret.replace(/(.{4})/g, "$1 ").trim();
  $("enrol-code").focus();
}

async function confirmEnrol(event) {
  event.preventDefault();
  const submit = $("enrol-submit");
  submit.disabled = true;
  try {
    const done = await postJson(
      "/api/staff/second-factor/confirm",
      { code: $("enrol-code").value.trim() },
      { "X-CSRF-Token": state.csrf },
    );
    $("enrol-form").hidden = true;
    $("enrol-setup").hidden = true;
    $("enrol-secret").textContent = "";
    $("recovery-codes").replaceChildren(
      ...done.recovery_codes.map((code) => Object.assign(document.createElement("li"), { textContent: code })),
    );
    $("enrol-done").hidden = false;
    $("enrol-done-status").focus();
  } catch {
    $("enrol-error").textContent = t("staff.enrol.wrong");
    $("enrol-error").hidden = false;
    $("enrol-code").focus();
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
  getJson("/api/config")
    .then((config) => setQuietWords(config?.quiet_words))
    .catch(() => console.warn("the agreed words could not be loaded"));
  $("login-form").addEventListener("submit", logIn);
  $("enrol-form").addEventListener("submit", confirmEnrol);
  $("enrol-continue").addEventListener("click", async () => {
    $("enrol").hidden = true;
    start(await getJson("/api/staff/me"));
  });
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
