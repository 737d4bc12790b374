// The helplines card: when what she wrote shows danger (or her adviser chose services for
// her), the server sends a `helplines` event and the card appears beside the chat. It never
// takes her focus and never covers the chat; a quiet line in the conversation log (a polite
// live region) tells her, and a screen reader, that it is there.
//
// Names, numbers, hours and eligibility are the server's data; every other word is from the
// catalogue, so the card reads in her language. A newer card replaces the older one. The
// card is a stored stream event, so a reload draws it again from the replay.

import { language, t } from "../shared/i18n.js";
import { placeBySeq } from "../shared/transcript.js";
import { addExtension } from "./extensions.js";

const $ = (id) => document.getElementById(id);
// Hours and contact notes are written in English; names, descriptions and eligibility come in
// her page language when translated (`text_language` says which). Saying so lets a screen
// reader pronounce each properly.
const DATA_LANGUAGE = "en";
const ALWAYS_OPEN = /^24 ?hours?$/i;
// "Text SHOUT to 85258": the keyword goes in the message, the number is where it goes.
const TEXT_KEYWORD = /\btext\s+([A-Za-z0-9]+)\s+to\b/i;
const MARK = "\u0001";

// On a phone the card goes straight above the message box, where she is looking, rather
// than below the whole conversation; on a wide screen it sits beside the chat.
const PHONE = matchMedia("(max-width: 47.99rem)");

let shown = null; // the card on screen: {conversationId, seq, event}
let notice = null; // the line in the conversation that points at the card

// The directory's own text in her language when it carries one, else as written (English).
// Accepted shapes: `translations: {ur: {name, description}}` or `names: {ur}` and
// `descriptions: {ur}`.
// The server sends each entry's name and description in her language where the directory has
// them, and says which language they are in (`text_language`).
function localised(helpline, field) {
  return { text: helpline[field] ?? "", lang: helpline.text_language ?? DATA_LANGUAGE };
}

function placeCard() {
  const aside = $("helplines");
  const composer = $("composer");
  if (PHONE.matches && composer) composer.before(aside);
  else if (aside.parentElement !== $("layout")) $("layout").append(aside);
}

export function installHelplines({ log }) {
  PHONE.addEventListener("change", placeCard);
  addExtension(({ socket, session }) => {
    socket.on("helplines", (event) => {
      if (event.conversation_id !== session().conversationId) return;
      if (shown && shown.conversationId === event.conversation_id && shown.seq >= event.seq) return;
      showCard(event, log);
    });
  });
}

export function clearHelplines() {
  shown = null;
  notice?.remove();
  notice = null;
  $("helplines").hidden = true;
  $("helplines-list").replaceChildren();
  $("helplines-intro").textContent = "";
}

function showCard(event, log) {
  shown = { conversationId: event.conversation_id, seq: event.seq, event };
  draw(event, log);
}

function draw(event, log) {
  const helplines = Array.isArray(event.helplines) ? event.helplines : [];
  // Emergency routes first, whatever order they came in (the server sends them first too).
  const ordered = [...helplines.filter((h) => h.emergency), ...helplines.filter((h) => !h.emergency)];
  const aside = $("helplines");
  aside.classList.toggle("is-imminent", event.level === "imminent");
  const intro = ordered.some((h) => h.emergency) ? t("helplines.intro_danger") : t("helplines.intro");
  // Her nation is not known and the services differ by nation: ask rather than list them all.
  $("helplines-intro").textContent = event.ask_nation ? `${intro} ${t("helplines.ask_nation")}` : intro;
  $("helplines-list").replaceChildren(...ordered.map((helpline) => entry(helpline)));
  placeCard();
  aside.hidden = false;
  pointFromConversation(event, log);
}

// One quiet line in the conversation, with a button that brings the card into view. A
// button, not a #link: the page never adds history entries.
function pointFromConversation(event, log) {
  notice?.remove();
  notice = document.createElement("p");
  notice.className = "msg-notice helplines-notice";
  const text = document.createElement("span");
  text.textContent = t("helplines.notice");
  const show = document.createElement("button");
  show.type = "button";
  show.className = "link-button";
  show.textContent = t("helplines.show");
  show.addEventListener("click", () => {
    const heading = $("helplines-title");
    heading.scrollIntoView({ block: "start" });
    heading.focus({ preventScroll: true });
  });
  notice.append(text, " ", show);
  placeBySeq(log, notice, event.seq);
}

function entry(helpline) {
  const item = document.createElement("li");
  item.className = helpline.emergency ? "helpline is-emergency" : "helpline";
  const name = document.createElement("h3");
  name.className = "helpline-name";
  // Isolated, so "Silent Solution (999 then 55)" keeps its brackets on a right-to-left page.
  const title = document.createElement("bdi");
  const named = localised(helpline, "name");
  title.textContent = named.text;
  if (named.lang !== document.documentElement.lang) title.lang = named.lang;
  name.append(title);
  if (helpline.emergency) {
    const badge = document.createElement("span");
    badge.className = "helpline-badge";
    badge.textContent = t("helplines.emergency");
    name.prepend(badge, " ");
  }
  item.append(name);
  if (helpline.id === "silent-solution") {
    item.append(line("helpline-how", t("helplines.silent_solution")));
  } else {
    const about = localised(helpline, "description");
    // Only in her language: an English line in the middle of an Urdu card helps nobody.
    if (about.text && about.lang === language()) item.append(line("helpline-about", about.text));
  }
  const contacts = document.createElement("ul");
  contacts.className = "helpline-contacts";
  for (const contact of helpline.contacts ?? []) contacts.append(contactItem(contact, helpline));
  item.append(contacts);
  if (helpline.hours) {
    const always = ALWAYS_OPEN.test(helpline.hours.trim());
    item.append(
      always
        ? line("helpline-hours", t("helplines.open_always"))
        : line("helpline-hours", t("helplines.hours", { hours: helpline.hours }), DATA_LANGUAGE),
    );
  }
  if (helpline.eligibility) {
    item.append(line("helpline-who", t("helplines.eligibility", { who: helpline.eligibility }), named.lang));
  }
  return item;
}

// The catalogue's words with each {part} as its own left-to-right piece that never breaks, so
// "0300 123 6600" stays whole and in order inside a right-to-left sentence.
function textWith(key, parts) {
  const marked = Object.fromEntries(Object.keys(parts).map((name) => [name, `${MARK}${name}${MARK}`]));
  return t(key, marked)
    .split(MARK)
    .map((piece, index) => {
      if (index % 2 === 0) return document.createTextNode(piece);
      const part = document.createElement("bdi");
      part.dir = "ltr";
      part.className = "helpline-number";
      part.textContent = parts[piece] ?? "";
      return part;
    });
}

function line(className, text, lang) {
  const p = document.createElement("p");
  p.className = className;
  p.textContent = text;
  if (lang && document.documentElement.lang !== lang) p.lang = lang;
  return p;
}

function contactItem(contact, helpline) {
  const li = document.createElement("li");
  const value = String(contact.value ?? "");
  const digits = value.replace(/[^0-9+]/g, "");
  const link = document.createElement("a");
  link.className = "helpline-contact";
  if (contact.kind === "phone") {
    link.href = `tel:${digits}`;
    link.append(...textWith("helplines.call", { number: value }));
  } else if (contact.kind === "text") {
    const keyword = TEXT_KEYWORD.exec(contact.note ?? "")?.[1];
    link.href = keyword ? `sms:${digits}?body=${encodeURIComponent(keyword)}` : `sms:${digits}`;
    link.append(
      ...(keyword
        ? textWith("helplines.text_keyword", { keyword, number: value })
        : textWith("helplines.text", { number: value })),
    );
  } else if (contact.kind === "web" && /^https:\/\//i.test(value)) {
    link.href = value;
    link.rel = "noopener noreferrer";
    link.textContent = t("helplines.web", { name: localised(helpline, "name").text || value });
  } else {
    return li;
  }
  li.append(link);
  // The Silent Solution's own note is already said in her language above.
  const explained = helpline.id === "silent-solution" || (contact.kind === "text" && TEXT_KEYWORD.test(contact.note ?? ""));
  if (contact.note && !explained) li.append(line("helpline-note", contact.note, DATA_LANGUAGE));
  return li;
}
