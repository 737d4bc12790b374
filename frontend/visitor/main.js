// The visitor page's first screen: what stays private, her language, Start. No account, no
// cookies. The chat itself (chat.js and what it needs) is loaded when she starts, in parallel
// with making her session, so the first screen arrives quickly on a slow phone.

import { applyBrand } from "../shared/brand.js";
import { postJson } from "../shared/http.js";
import { language, loadPage, preferredLanguage, setLanguage } from "../shared/i18n.js";
import { installQuickExit, setExitUrl } from "../shared/quick-exit.js";
import { restoreSession, session, updateSession } from "./session.js";
import * as view from "./view.js";

const e = view.elements;
let chat = null; // the chat module, once she has started or come back to a chat
const loadChat = () => import("./chat.js");

// Her answer travels as true, false or "unsure"; null only when she left it unanswered.
function safeToTalk(value) {
  return { yes: true, no: false, unsure: "unsure" }[value] ?? null;
}

async function startChat(event) {
  event.preventDefault();
  view.showStartError(false);
  e.start.disabled = true;
  const form = new FormData(e.startForm);
  const choices = {
    language: e.language.value,
    topic: e.topic.value || null,
    nation: e.nation.value || null,
    safe_to_talk: safeToTalk(form.get("safe")),
  };
  let loaded = null;
  try {
    const [created, module] = await Promise.all([
      postJson("/api/visitor/session", choices),
      loadChat(),
    ]);
    updateSession({ token: created.token, language: choices.language, conversationId: null, lastSeq: 0 });
    loaded = module;
  } catch {
    view.showStartError(true);
    return;
  }
  e.start.disabled = false;
  chat = loaded;
  chat.begin();
}

// "I am in danger now" on the first screen, or a return code: the chat starts the same way,
// and waiting.js says what to ask for once connected.
async function startWith(event, prepare) {
  event.preventDefault();
  const waiting = await import("./waiting.js").catch(() => null);
  if (!waiting) {
    view.showStartError(true);
    return;
  }
  if (prepare(waiting) === false) return;
  startChat(event);
}

async function changeLanguage() {
  try {
    await loadPage(e.language.value);
    if (session().token) updateSession({ language: language() });
  } catch {
    // The words could not be fetched: stay in the language already on screen.
    e.language.value = language();
  }
  view.redraw();
}

function wire() {
  e.startForm.addEventListener("submit", startChat);
  e.startDanger.addEventListener("click", (event) => startWith(event, (waiting) => waiting.wantDanger()));
  e.comeBackForm.addEventListener("submit", (event) =>
    startWith(event, (waiting) => waiting.wantComeBack(e.returnCode.value)),
  );
  e.language.addEventListener("change", changeLanguage);
  // A tap on Start that came before this module (kept by exit-early.js) starts the chat now.
  e.startForm.setAttribute("data-ready", "");
  if (e.startForm.dataset.pending) {
    delete e.startForm.dataset.pending;
    e.start.removeAttribute("aria-busy");
    startChat(new Event("submit"));
  }
}

async function boot() {
  installQuickExit({ token: () => session().token, closeSocket: () => chat?.closeSocket() });
  wire();
  const stored = restoreSession();
  const wanted = stored.language ?? preferredLanguage();
  const config = await loadPage(wanted).catch(() => null);
  if (!config) await setLanguage(wanted).catch(() => "en");
  setExitUrl(config?.exit_url);
  applyBrand(config?.brand);
  e.language.value = language();
  // She may have started a chat while the page was still loading: what is on screen is drawn
  // again now that the words have arrived.
  if (chat || e.start.disabled) {
    view.redraw();
    return;
  }
  if (stored.token) {
    chat = await loadChat();
    chat.resume();
  } else {
    view.show("intro");
  }
}

boot();
