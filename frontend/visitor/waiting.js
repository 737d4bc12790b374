// While she waits, and at the end: "I am in danger now", coming back with a return code, the
// group rooms open now and helplines she can call; at the end, a return code and the summary
// she agrees to keep. Loaded with chat.js; plugs into its socket through extensions.js and
// into its screens through view.onRedraw, so the chat's own flow is unchanged.
//
// Nothing here is kept in the browser: a return code is shown once and lives only on screen.

import { getJson } from "../shared/http.js";
import { language, t } from "../shared/i18n.js";
import { addExtension } from "./extensions.js";
import * as view from "./view.js";

const $ = (id) => document.getElementById(id);
// Errors this module answers on screen itself; chat.js leaves them to it.
export const QUIET_ERRORS = ["return_code_unknown", "return_code_taken"];

const state = {
  socket: null,
  session: null,
  danger: "no", // no | wanted (before her conversation exists) | asked | noted
  comeBack: null, // the code she typed, until it has been sent once
  codeSent: null, // the code last sent, kept in case the helpline turns her away (closed, full)
  returning: null, // the `returning` offer
  adviser: null,
  summary: null,
  conversationId: null,
  codeShown: false,
  extrasFor: null, // the conversation whose rooms and helplines were fetched
  focusChoice: false, // a question about her adviser waits to take her focus
};

// On the first screen she pressed "I am in danger now": say so as soon as she is in the queue.
export function wantDanger() {
  state.danger = "wanted";
}

export function wantComeBack(code) {
  const words = (code ?? "").trim();
  if (!words) {
    $("return-code").focus();
    return false;
  }
  state.comeBack = words;
  return true;
}

// What chat.js sends when she has no conversation yet: a return code is used once.
export function firstRequest() {
  if (state.comeBack) {
    const code = state.comeBack;
    state.comeBack = null;
    state.codeSent = code;
    return { type: "come_back", code };
  }
  return { type: "request_chat" };
}

function send(event) {
  return state.socket?.send(event) ?? false;
}

function current(event) {
  return event.conversation_id === state.session?.().conversationId;
}

function askDanger() {
  const conversationId = state.session?.().conversationId;
  if (!conversationId) {
    state.danger = "wanted";
    draw();
    return;
  }
  if (send({ type: "danger_now", conversation_id: conversationId })) state.danger = "asked";
  draw();
}

// A different conversation (a new chat, another session): nothing of the last one carries over.
function track(conversationId) {
  if (!conversationId || conversationId === state.conversationId) return;
  reset();
  state.conversationId = conversationId;
}

function onQueue(event) {
  track(event.conversation_id);
  if (state.danger === "wanted") askDanger();
  loadExtras();
}

function onDangerNoted(event) {
  if (!current(event)) return;
  state.danger = "noted";
  draw();
  focusCard();
}

function focusCard() {
  requestAnimationFrame(() => {
    if (!$("helplines").hidden) $("helplines-title")?.focus();
  });
}

// The emergency routes arrive as a helplines card (helplines.js draws it); she asked for them,
// so here, unlike a card raised by what she wrote, the card takes her focus.
function onHelplines(event) {
  if (!event.danger_now || !current(event) || state.danger === "no") return;
  focusCard();
}

function onReturning(event) {
  track(event.conversation_id);
  state.returning = event;
  draw();
  // Her adviser is not available: she is told so and asked at once.
  if (event.adviser_name && event.adviser_available === false) focusChoice();
}

// Her adviser has stayed busy, or stopped being available, while she waited for her: asked
// again whether to keep waiting or talk to the next adviser free (stored, so a reload shows it).
function onReturnOffer(event) {
  track(event.conversation_id);
  state.returning = { conversation_id: event.conversation_id, adviser_name: event.adviser_name, reason: event.reason };
  draw();
  focusChoice();
}

// Her choice, stored: the same on every tab of hers and after a reload.
function onWaitingFor(event) {
  if (!current(event)) return;
  track(event.conversation_id);
  const name = state.returning?.adviser_name ?? event.adviser_name;
  state.returning = { ...(state.returning ?? { conversation_id: event.conversation_id }), adviser_name: name, chosen: event.wait, reason: undefined };
  draw();
}

// The question takes her focus once it is on screen (the waiting screen may come a moment
// after the event that asks it).
function focusChoice() {
  state.focusChoice = true;
  draw();
}

function chooseWait(wait) {
  const conversationId = state.returning?.conversation_id;
  if (conversationId && send({ type: "wait_for_adviser", conversation_id: conversationId, wait })) {
    state.returning = { ...state.returning, chosen: wait };
    draw();
  }
}

function onError(event) {
  if (["helpline_closed", "helpline_full"].includes(event.code) && event.ref === "come_back") {
    // Turned away, not refused: her code stays good for when she starts again.
    state.comeBack = state.codeSent;
    return;
  }
  if (event.code === "return_code_unknown") {
    $("return-again").hidden = false;
    $("return-code-again").focus();
  } else if (event.code === "return_code_taken") {
    showReturnError(t("return.taken"));
  } else if (event.ref === "take_return_code") {
    $("return-take").disabled = false;
    showReturnError(t("error.general"));
  } else if (event.ref === "danger_now" && state.danger === "asked") {
    // Not noted (the connection dropped, or the chat ended): she can press it again.
    state.danger = "no";
    draw();
  }
}

function retryCode(event) {
  event.preventDefault();
  const code = $("return-code-again").value.trim();
  if (!code) return;
  $("return-again").hidden = true;
  send({ type: "come_back", code });
}

function startPlain() {
  $("return-again").hidden = true;
  send({ type: "request_chat" });
}

// --- the end: summary and return code ----------------------------------------------------------

function onAssigned(event) {
  if (!current(event)) return;
  state.adviser = event.adviser_name;
  state.returning = null;
}

function onSummary(event) {
  if (!current(event)) return;
  state.summary = event.summary;
  draw();
}

function takeCode() {
  const conversationId = state.session?.().conversationId;
  if (!conversationId) return;
  const keep = $("return-keep").checked;
  if (send({ type: "take_return_code", conversation_id: conversationId, keep_summary: keep })) {
    $("return-take").disabled = true;
  }
}

function onReturnCode(event) {
  if (!current(event)) return;
  state.codeShown = true;
  $("return-words").textContent = event.words.join(" ");
  $("return-words-area").hidden = false;
  $("return-take").hidden = true;
  $("return-keep").disabled = true;
  $("return-words").setAttribute("tabindex", "-1");
  $("return-words").focus();
}

function showReturnError(text) {
  $("return-error").textContent = text;
  $("return-error").hidden = !text;
}

// --- meanwhile: rooms open now, helplines -------------------------------------------------------

async function loadExtras() {
  if (state.extrasFor === state.conversationId) return;
  state.extrasFor = state.conversationId;
  const params = new URLSearchParams({ language: language() });
  const topic = $("topic")?.value;
  const nation = $("nation")?.value;
  if (topic) params.set("topic", topic);
  if (nation) params.set("nation", nation);
  const [rooms, helplines] = await Promise.all([
    getJson("/api/rooms").catch(() => null),
    getJson(`/api/visitor/helplines?${params}`).catch(() => null),
  ]);
  drawRooms(rooms?.rooms?.filter((room) => room.open && !room.locked && room.busy !== "full") ?? []);
  drawHelplines(helplines?.helplines ?? []);
}

function drawRooms(rooms) {
  $("open-rooms").hidden = rooms.length === 0;
  $("open-rooms-list").replaceChildren(
    ...rooms.map((room) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = `/rooms#${encodeURIComponent(room.id)}`;
      link.textContent = room.name;
      item.append(link);
      if (room.description) item.append(" ", Object.assign(document.createElement("span"), { className: "hint", textContent: room.description }));
      return item;
    }),
  );
}

function drawHelplines(helplines) {
  $("wait-helplines").hidden = helplines.length === 0;
  $("wait-helplines-list").replaceChildren(...helplines.map((helpline) => helplineItem(helpline)));
}

// One helpline as a list item: its name, numbers to tap, hours; `describe`: and what it does
// (the closed screen's emergency routes: "lets the police know you need help…").
export function helplineItem(helpline, describe = false) {
  const item = document.createElement("li");
  const name = document.createElement("strong");
  name.textContent = helpline.name;
  if (helpline.text_language) name.lang = helpline.text_language;
  item.append(name);
  for (const contact of helpline.contacts ?? []) {
    item.append(" ");
    if (contact.kind === "phone") {
      const link = document.createElement("a");
      link.href = `tel:${contact.value.replace(/\s+/g, "")}`;
      link.textContent = contact.value;
      item.append(link);
    } else {
      const text = document.createElement("span");
      text.textContent = contact.value;
      item.append(text);
    }
  }
  if (helpline.hours) item.append(Object.assign(document.createElement("span"), { className: "hint", lang: "en", textContent: ` (${helpline.hours})` }));
  if (describe && helpline.description) {
    const what = Object.assign(document.createElement("span"), { className: "helpline-what", textContent: helpline.description });
    if (helpline.text_language) what.lang = helpline.text_language;
    item.append(document.createElement("br"), what);
  }
  return item;
}

// --- drawing ------------------------------------------------------------------------------------

function draw(screen = { name: view.currentScreen() }) {
  const waiting = screen.name === "waiting";
  $("waiting-panel").hidden = !waiting;
  $("waiting-more").hidden = !waiting;
  const danger = $("danger");
  danger.hidden = !waiting || state.danger === "noted";
  const noted = $("danger-noted");
  const dangerText = { wanted: "danger.sending", asked: "danger.sending", noted: "danger.noted" }[state.danger];
  noted.hidden = !waiting || !dangerText;
  noted.textContent = dangerText ? t(dangerText) : "";
  const offer = state.returning;
  $("returning").hidden = !waiting || !offer?.adviser_name;
  if (offer?.adviser_name) {
    $("returning-text").textContent = t(returningKey(offer), { name: offer.adviser_name });
    $("wait-same").textContent = t(offer.reason ? "return.keep_waiting" : "return.wait", { name: offer.adviser_name });
    $("wait-same").hidden = offer.chosen !== undefined;
    // Waiting for her adviser, she can still change her mind and take whoever is free.
    $("return-any").hidden = offer.chosen === false;
  }
  if (state.focusChoice && !$("returning").hidden && !$("wait-same").hidden) {
    state.focusChoice = false;
    requestAnimationFrame(() => $("wait-same").focus());
  }
  const ended = screen.name === "ended" && Boolean(state.adviser);
  $("return-area").hidden = !ended;
  if (ended) {
    $("return-summary").textContent = state.summary ?? t("return.short_summary", { name: state.adviser });
  }
}

function returningKey(offer) {
  if (offer.chosen === true) return "return.waiting_for";
  if (offer.chosen === false) return "return.next_free";
  if (offer.reason === "busy") return "return.still_busy";
  if (offer.reason === "away" || offer.adviser_available === false) return "return.not_available";
  return "return.offer";
}

function drawMoved(event) {
  if (!current(event)) return;
  const note = $("moved-note");
  note.textContent = t("waiting.moved");
  note.hidden = false;
}

function reset() {
  Object.assign(state, { adviser: null, summary: null, returning: null, codeShown: false });
  if (state.danger !== "wanted") state.danger = "no";
  $("return-words-area").hidden = true;
  $("return-take").hidden = false;
  $("return-take").disabled = false;
  $("return-keep").disabled = false;
  $("return-keep").checked = false;
  $("moved-note").hidden = true;
  showReturnError("");
}

function wire() {
  $("danger").addEventListener("click", askDanger);
  $("wait-same").addEventListener("click", () => chooseWait(true));
  $("return-any").addEventListener("click", () => chooseWait(false));
  $("return-again").addEventListener("submit", retryCode);
  $("return-new-chat").addEventListener("click", startPlain);
  $("return-take").addEventListener("click", takeCode);
  view.onRedraw(draw);
  addExtension(({ socket, session }) => {
    state.socket = socket;
    state.session = session;
    socket.on("queue", onQueue);
    socket.on("danger_noted", onDangerNoted);
    socket.on("helplines", onHelplines);
    socket.on("returning", onReturning);
    socket.on("waiting_for_adviser", onWaitingFor);
    socket.on("return_offer", onReturnOffer);
    socket.on("moved_to_adviser", drawMoved);
    socket.on("assigned", onAssigned);
    socket.on("summary", onSummary);
    socket.on("return_code", onReturnCode);
    socket.on("error", onError);
    socket.on("welcome", (welcome) => track(welcome.conversation?.id));
  });
}

wire();
