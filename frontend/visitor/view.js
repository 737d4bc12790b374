// The visitor page's screens: before the chat, waiting, talking, ended; and closed, when
// advisers are not answering (closed hours, a surge) and she is in no queue.

import { formatNumber, t } from "../shared/i18n.js";

const $ = (id) => document.getElementById(id);

export const elements = {
  intro: $("intro"),
  introNotice: $("intro-notice"),
  startForm: $("start-form"),
  start: $("start"),
  startError: $("start-error"),
  startDanger: $("start-danger"),
  comeBackForm: $("come-back-form"),
  returnCode: $("return-code"),
  language: $("language"),
  topic: $("topic"),
  nation: $("nation"),
  chat: $("chat"),
  heading: $("chat-status"),
  hint: $("chat-hint"),
  log: $("log"),
  typing: $("typing"),
  composer: $("composer"),
  message: $("message"),
  composerNote: $("composer-note"),
  endArea: $("end-area"),
  end: $("end"),
  endConfirm: $("end-confirm"),
  endYes: $("end-yes"),
  endNo: $("end-no"),
  ended: $("ended"),
  endedText: $("ended-text"),
  newChat: $("new-chat"),
  forget: $("forget"),
  connection: $("connection"),
  introQuiet: $("intro-quiet"),
  hideChat: $("hide-chat"),
  cover: $("cover"),
  coverQuiet: $("cover-quiet"),
  chatBody: $("chat-body"),
  closed: $("closed"),
};

const e = elements;

// Every screen is drawn from one small description so a language change can redraw it.
let screen = { name: "intro" };

export function show(name, details = {}) {
  screen = { name, ...details };
  redraw();
}

export function currentScreen() {
  return screen.name;
}

export function redraw() {
  const { name } = screen;
  e.intro.hidden = name !== "intro";
  e.chat.hidden = name === "intro";
  // She can write while she waits: what she writes is there for whoever takes her. Closed,
  // she is in no queue: no message box, nothing to end.
  e.composer.hidden = !(name === "talking" || name === "waiting");
  e.endArea.hidden = !(name === "waiting" || name === "talking");
  e.ended.hidden = name !== "ended";
  e.closed.hidden = name !== "closed";
  if (name === "intro") drawIntro();
  if (name === "closed") drawClosed();
  if (name === "waiting") drawWaiting();
  if (name === "talking") drawTalking();
  if (name === "ended") drawEnded();
  for (const hook of redrawHooks) hook(screen);
}

// Feature modules (waiting.js) draw their part of a screen after it.
const redrawHooks = [];
export function onRedraw(hook) {
  redrawHooks.push(hook);
}

const INTRO_NOTICES = {
  closed: "intro.session_closed",
  forgotten: "intro.forgotten",
};

function drawIntro() {
  e.introQuiet.textContent = t("intro.quiet", { word: t("quiet.word") });
  const key = INTRO_NOTICES[screen.notice];
  e.introNotice.hidden = !key;
  e.introNotice.textContent = key ? t(key) : "";
}

function drawWaiting() {
  const { position, nobodyOnline } = screen;
  e.heading.textContent = nobodyOnline
    ? t("chat.nobody_online")
    : position
      ? t("chat.queue_position", { position: formatNumber(position) })
      : t("chat.connecting_adviser");
  e.hint.textContent = t("chat.waiting_hint");
  e.end.textContent = t("chat.leave_queue");
}

// `code`: helpline_closed or helpline_full; `open`: advisers answer again since (she may start).
function drawClosed() {
  const { code, open } = screen;
  e.heading.textContent = t(open ? "closed.open_title" : code === "helpline_full" ? "closed.full_title" : "closed.title");
  e.hint.textContent = "";
}

function drawTalking() {
  e.heading.textContent = t("chat.talking_with", { name: screen.adviser });
  e.hint.textContent = "";
  e.end.textContent = t("chat.end");
}

function drawEnded() {
  e.heading.textContent = t("ended.title");
  e.hint.textContent = "";
  const reasons = {
    adviser: t("ended.by_adviser"),
    visitor: t("ended.by_you"),
    left: t("ended.left"),
  };
  e.endedText.textContent = reasons[screen.by] ?? t("ended.other");
  hideEndConfirm();
  showTyping(null);
}

export function showEndConfirm() {
  e.end.hidden = true;
  e.endConfirm.hidden = false;
  e.endNo.focus();
}

export function hideEndConfirm() {
  e.end.hidden = false;
  e.endConfirm.hidden = true;
}

export function showTyping(name) {
  e.typing.textContent = name ? t("chat.typing", { name }) : "";
}

const CONNECTION_TEXT = {
  connecting: "connection.connecting",
  reconnecting: "connection.lost",
};

export function showConnection(state) {
  const key = CONNECTION_TEXT[state];
  e.connection.textContent = key ? t(key) : "";
}

export function showStartError(show) {
  e.startError.hidden = !show;
  e.startError.textContent = show ? t("intro.start_failed") : "";
  e.start.disabled = false;
}

// A short line in the conversation itself, e.g. a message that could not be sent.
export function errorText(event) {
  const known = {
    refused: "error.refused",
    too_large: "error.too_large",
    conversation_ended: "error.conversation_ended",
  };
  if (event.code === "refused") return refusalText(event.reason);
  return t(known[event.code] ?? "error.general");
}

// Why a message was not sent, in her language, from the server's reason code.
const REFUSALS = {
  empty: "refused.empty",
  too_long: "refused.too_long",
  too_fast: "refused.too_fast",
  repeated: "refused.repeated",
  held_for_mentor: "refused.held_for_mentor",
  personal_details: "refused.personal_details",
};

export function refusalText(reason) {
  return t(REFUSALS[reason] ?? "error.refused");
}

// Under the message box: what happened to what she just tried to send.
export function showComposerNote(text) {
  e.composerNote.textContent = text ?? "";
}

// Hide the conversation (blurred, and out of reach of screen readers and the keyboard) until
// she taps the cover. `quiet`: she sent the agreed word, and the cover says her adviser knows.
export function coverChat(quiet = false) {
  e.chatBody.classList.add("is-covered");
  e.chatBody.inert = true;
  e.chatBody.setAttribute("aria-hidden", "true");
  e.hideChat.hidden = true;
  e.coverQuiet.hidden = !quiet;
  e.coverQuiet.textContent = quiet ? t("chat.quiet") : "";
  e.cover.hidden = false;
  e.cover.focus();
}

export function uncoverChat() {
  e.chatBody.classList.remove("is-covered");
  e.chatBody.inert = false;
  e.chatBody.removeAttribute("aria-hidden");
  e.cover.hidden = true;
  e.hideChat.hidden = false;
  e.hideChat.focus();
}
