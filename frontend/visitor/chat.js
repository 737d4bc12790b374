// The visitor page's chat: wait, talk, end. Loaded only when she starts a chat (or comes back
// to one after a reload), so the first screen costs a slow phone as little as possible.

import { postJson } from "../shared/http.js";
import { t } from "../shared/i18n.js";
import { addReportControl, markReported, reportFailed } from "../shared/report.js";
import { resendLater, resent } from "../shared/resend.js";
import { StreamSocket } from "../shared/socket.js";
import { Transcript, newClientId } from "../shared/transcript.js";
import { TypingIndicator, TypingNotifier } from "../shared/typing.js";
import { startExtensions } from "./extensions.js";
import { feedbackFailed, feedbackThanks, hideFeedback, offerFeedback } from "./feedback.js";
import { clearHelplines, installHelplines } from "./helplines.js";
import "./routing.js";
import { forgetSession, session, updateSession } from "./session.js";
import * as view from "./view.js";
import { firstRequest, QUIET_ERRORS } from "./waiting.js";

const e = view.elements;
// The protocol's largest message body; anything longer is kept in the box, never sent.
const MAX_BODY = 20000;

let socket = null;
// `wantsNew`: she asked for another chat and is not in the queue yet (survives a reconnect).
const chat = { adviser: null, replayUntil: 0, wantsNew: false, reporting: [] };
const typing = new TypingNotifier((active) =>
  socket?.send({ type: "typing", conversation_id: session().conversationId, active }) ?? false,
);
const adviserTyping = new TypingIndicator((active) =>
  view.showTyping(active ? chat.adviser ?? t("chat.adviser") : null),
);

const transcript = new Transcript(e.log, {
  who: (event) => (event.sender === "visitor" ? t("chat.you") : event.sender_name ?? chat.adviser ?? t("chat.adviser")),
  isOwn: (event) => event.sender === "visitor",
  text: (state) => ({ sending: t("chat.sending"), sent: t("chat.sent"), failed: t("chat.failed") })[state],
});

// She has a new session (main.js made it): join the queue.
export function begin() {
  transcript.clear();
  view.show("waiting");
  connect();
}

// A reload: the page holds no copy of the messages, so it asks for the whole conversation
// again; until the replay is back where she was, the log is marked busy.
export function resume() {
  chat.replayUntil = session().lastSeq;
  if (chat.replayUntil) e.log.setAttribute("aria-busy", "true");
  updateSession({ lastSeq: 0 });
  view.show("waiting");
  connect();
}

export function closeSocket() {
  socket?.close();
}

function connect() {
  socket = new StreamSocket({
    hello: (resume) => ({ type: "hello", v: 1, token: session().token, resume }),
  });
  socket.on("state", view.showConnection);
  socket.on("welcome", onWelcome);
  socket.on("queue", onQueue);
  socket.on("assigned", onAssigned);
  socket.on("message", onMessage);
  socket.on("ack", (ack) => {
    resent(ack.client_id);
    transcript.confirm(ack.client_id, ack.seq);
  });
  socket.on("typing", onTyping);
  socket.on("ended", onEnded);
  socket.on("transferred", onTransferred);
  socket.on("joined", onJoined);
  socket.on("taken_over", onTakenOver);
  socket.on("feedback_thanks", feedbackThanks);
  socket.on("error", onError);
  socket.on("reported", onReported);
  socket.on("*", noteSeq);
  startExtensions({ socket, session, t });
  socket.connect();
}

function noteSeq(event) {
  // An ack or a report confirmation names a message by its seq; it is not a stream event.
  if (typeof event.seq !== "number" || event.type === "ack" || event.type === "reported") return;
  if (event.conversation_id !== session().conversationId) return;
  updateSession({ lastSeq: event.seq });
  // After a reload the conversation is replayed; until we are back where we were, the log is
  // busy so a screen reader does not read the whole history aloud as if it were new.
  if (chat.replayUntil && event.seq >= chat.replayUntil) {
    chat.replayUntil = 0;
    e.log.removeAttribute("aria-busy");
  }
}

function onWelcome(welcome) {
  const conversation = welcome.conversation;
  const open = conversation && conversation.status !== "ended";
  if (view.currentScreen() === "closed" && !open) {
    // Turned away (closed, full) and reconnected: asked whether advisers answer again, never
    // put in the queue without pressing Start (routing.js).
    socket.send({ type: "watch_helpline" });
  } else if (!conversation || (chat.wantsNew && conversation.status === "ended")) {
    socket.send(firstRequest());
  } else if (conversation.id !== session().conversationId) {
    updateSession({ conversationId: conversation.id, lastSeq: 0 });
  }
  if (conversation?.status === "waiting" && view.currentScreen() !== "waiting") view.show("waiting");
  for (const { clientId, body } of transcript.unacknowledged()) {
    socket.send({ type: "message", conversation_id: session().conversationId, client_id: clientId, body });
  }
}

function onQueue(event) {
  const current = event.conversation_id === session().conversationId;
  // Queue news carries no seq, so a late one must not pull her back from a live chat.
  if (current && ["talking", "ended"].includes(view.currentScreen())) return;
  chat.wantsNew = false;
  if (!current) {
    updateSession({ conversationId: event.conversation_id, lastSeq: 0 });
  }
  // With no adviser online who could answer her (routing's estimate is null), her number in
  // the queue would promise what nobody can keep.
  view.show("waiting", { position: event.position, nobodyOnline: event.estimate === null || event.advisers_online === 0 });
}

function onAssigned(event) {
  if (event.conversation_id !== session().conversationId) return;
  chat.adviser = event.adviser_name;
  transcript.addNotice(t("chat.joined", { name: event.adviser_name }), event.seq);
  view.show("talking", { adviser: event.adviser_name });
  if (!chat.replayUntil) e.message.focus();
}

function onMessage(event) {
  if (event.conversation_id !== session().conversationId) return;
  transcript.add(event);
  if (event.sender === "visitor") return;
  adviserTyping.clear();
  addReportControl(transcript.itemAt(event.seq), reportWords(), (reason) => report(event.seq, reason));
}

function reportWords() {
  return {
    menu: t("report.menu"),
    button: t("report.button"),
    question: t("report.question"),
    reason: t("report.reason"),
    send: t("report.send"),
    cancel: t("report.cancel"),
    sending: t("report.sending"),
    failed: t("report.failed"),
  };
}

function report(seq, reason) {
  const sent = socket?.send({ type: "report", conversation_id: session().conversationId, seq, reason }) ?? false;
  if (sent) chat.reporting.push(seq);
  return sent;
}

function onReported(event) {
  if (event.conversation_id !== session().conversationId) return;
  chat.reporting = chat.reporting.filter((seq) => seq !== event.seq);
  markReported(transcript.itemAt(event.seq), t("report.done"));
}

function onTyping(event) {
  if (event.from === "visitor" || event.conversation_id !== session().conversationId) return;
  adviserTyping.update(event.active);
}

function onEnded(event) {
  if (event.conversation_id !== session().conversationId) return;
  for (const { clientId } of transcript.unacknowledged()) transcript.fail(clientId);
  typing.stop(false);
  adviserTyping.clear();
  view.show("ended", { by: event.by });
  if (chat.adviser && event.by !== "quick_exit") offerFeedback((payload) => socket?.send(payload) ?? false);
}

// Her adviser handed the chat to someone else: she is told who is joining.
function onTransferred(event) {
  if (event.conversation_id !== session().conversationId) return;
  chat.adviser = event.adviser_name;
  transcript.addNotice(t("chat.transferred", { name: event.adviser_name }), event.seq);
  if (view.currentScreen() === "talking") view.show("talking", { adviser: event.adviser_name });
}

// A supervisor took the chat over: she is told, in her language, who is talking with her now.
function onTakenOver(event) {
  if (event.conversation_id !== session().conversationId) return;
  chat.adviser = event.adviser_name;
  transcript.addNotice(t("chat.taken_over", { name: event.adviser_name }), event.seq);
  if (view.currentScreen() === "talking") view.show("talking", { adviser: event.adviser_name });
}

// A supervisor joined her chat: she is told, in her language (her adviser stays).
function onJoined(event) {
  if (event.conversation_id !== session().conversationId) return;
  transcript.addNotice(t("chat.supervisor_joined"), event.seq);
}

function onError(event) {
  if (event.ref === "feedback") {
    feedbackFailed();
    return;
  }
  if (event.ref === "hello" && event.code === "unauthorized") {
    // Her session is over (she left quickly elsewhere, or it expired): start clean.
    socket.close();
    socket = null;
    forgetSession();
    transcript.clear();
    clearHelplines();
    view.show("intro", { notice: "closed" });
    return;
  }
  if (["already_waiting", "conversation_ended", ...QUIET_ERRORS].includes(event.code)) return;
  // Closed or full: routing.js says so, with when advisers next answer and other help.
  if (["helpline_closed", "helpline_full"].includes(event.code)) return;
  if (event.code === "retry" && event.client_id) {
    // Maybe stored, maybe not: the same client_id again, until it is acked (stored once).
    resendLater(event.client_id, () => resendPending(event.client_id));
    return;
  }
  if (event.code === "refused" && event.client_id) {
    refused(event.client_id, view.refusalText(event.reason));
    return;
  }
  if (event.code === "too_large") {
    // The frame was too big to read, so it names no message: it was the newest one.
    const newest = transcript.unacknowledged().at(-1);
    if (newest) refused(newest.clientId, t("refused.too_long"));
    return;
  }
  if (event.ref === "report") {
    const seq = chat.reporting.shift();
    if (seq !== undefined) reportFailed(transcript.itemAt(seq), t("report.failed"));
    return;
  }
  if (event.ref === "message") {
    const failed = event.client_id ?? transcript.unacknowledged()[0]?.clientId;
    if (failed) transcript.fail(failed);
  }
  transcript.addNotice(view.errorText(event), undefined, "alert");
}

function resendPending(clientId) {
  const body = transcript.pendingBody(clientId);
  const conversationId = session().conversationId;
  if (body === null || !conversationId) return false;
  socket?.send({ type: "message", conversation_id: conversationId, client_id: clientId, body });
  return true;
}

// Her message was not sent: the bubble says why, and her words go back in the box (unless she
// has started writing something else there), so nothing she wrote is lost.
function refused(clientId, reason) {
  const body = transcript.pendingBody(clientId);
  transcript.fail(clientId, reason);
  if (body !== null && !e.message.value.trim()) e.message.value = body;
  view.showComposerNote(`${reason} ${t("refused.kept")}`);
}

function sendMessage(event) {
  event.preventDefault();
  const body = e.message.value.trim();
  const conversationId = session().conversationId;
  if (!body || !conversationId) return;
  view.showComposerNote("");
  if (body.length > MAX_BODY) {
    view.showComposerNote(`${t("refused.too_long")} ${t("refused.kept")}`);
    return;
  }
  const clientId = newClientId();
  transcript.addPending(clientId, body, t("chat.you"));
  socket?.send({ type: "message", conversation_id: conversationId, client_id: clientId, body });
  e.message.value = "";
  typing.stop();
  if (isQuietWord(body)) {
    view.coverChat(true);
    return;
  }
  e.message.focus();
}

// The agreed word alone: her adviser's console shows "not safe now", and the page goes quiet.
function isQuietWord(body) {
  return body.toLocaleLowerCase() === t("quiet.word").toLocaleLowerCase();
}

function typed() {
  if (view.currentScreen() === "talking") typing.input();
}

function endChat() {
  const conversationId = session().conversationId;
  if (conversationId && socket?.send({ type: "end", conversation_id: conversationId })) {
    view.hideEndConfirm();
  }
}

function newChat() {
  hideFeedback();
  if (!socket || !session().token) {
    view.show("intro");
    return;
  }
  socket.forget(session().conversationId);
  updateSession({ conversationId: null, lastSeq: 0 });
  chat.adviser = null;
  chat.wantsNew = true;
  transcript.clear();
  clearHelplines();
  view.show("waiting");
  socket.send({ type: "request_chat" });
}

// She deletes the conversation from the server now; her session goes with it.
async function forgetChat() {
  const token = session().token;
  e.forget.disabled = true;
  try {
    await postJson("/api/visitor/forget", { token });
  } catch {
    e.forget.disabled = false;
    e.endedText.textContent = t("error.general");
    return;
  }
  e.forget.disabled = false;
  socket?.close();
  socket = null;
  forgetSession();
  transcript.clear();
  clearHelplines();
  view.show("intro", { notice: "forgotten" });
}

function wire() {
  e.composer.addEventListener("submit", sendMessage);
  e.message.addEventListener("input", typed);
  e.message.addEventListener("keydown", (event) => {
    // Enter sends on a keyboard; Shift+Enter (or a phone's return key with a newline) does not.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) sendMessage(event);
  });
  e.end.addEventListener("click", view.showEndConfirm);
  e.endNo.addEventListener("click", () => {
    view.hideEndConfirm();
    e.end.focus();
  });
  e.endYes.addEventListener("click", endChat);
  e.newChat.addEventListener("click", newChat);
  e.forget.addEventListener("click", forgetChat);
  e.hideChat.addEventListener("click", () => view.coverChat());
  e.cover.addEventListener("click", view.uncoverChat);
}

installHelplines({ log: e.log });
wire();
