// The helplines card in a room: when what she wrote shows danger, the server sends her (and
// only her) a `helplines` event; the card appears beside the room without taking her focus.
// It is kept in the room's stream for her alone, so after a reload it comes back in order.
// Names, numbers and hours are the server's data; the other words come from the catalogue.

import { w } from "./words.js";

const $ = (id) => document.getElementById(id);
// Isolate numbers so "0808 2000 247" keeps its order inside right-to-left sentences.
const isolate = (value) => `\u2066${value}\u2069`;

function contactLink(contact) {
  const link = document.createElement("a");
  link.className = "button helpline-contact";
  const digits = contact.value.replace(/[^0-9+]/g, "");
  if (contact.kind === "web") {
    link.href = contact.value;
    link.rel = "noreferrer noopener";
    link.textContent = w("rooms.helplines.web");
  } else if (contact.kind === "text") {
    link.href = `sms:${digits}`;
    link.textContent = w("rooms.helplines.text", { number: isolate(contact.value) });
  } else {
    link.href = `tel:${digits}`;
    link.textContent = w("rooms.helplines.call", { number: isolate(contact.value) });
  }
  return link;
}

function entry(helpline) {
  const item = document.createElement("li");
  item.className = `helpline${helpline.emergency ? " is-emergency" : ""}`;
  const name = document.createElement("h3");
  name.textContent = helpline.name;
  // Names come in her page language when translated (`text_language`), else in English.
  name.lang = helpline.text_language ?? "en";
  item.append(name);
  if (helpline.hours) {
    const hours = document.createElement("p");
    hours.className = "hint";
    hours.lang = "en";
    hours.textContent = helpline.hours;
    item.append(hours);
  }
  const contacts = document.createElement("div");
  contacts.className = "row";
  contacts.append(...(helpline.contacts ?? []).map(contactLink));
  item.append(contacts);
  return item;
}

export function showHelplines(event, log) {
  const helplines = Array.isArray(event.helplines) ? event.helplines : [];
  if (!helplines.length) return;
  const ordered = [...helplines.filter((h) => h.emergency), ...helplines.filter((h) => !h.emergency)];
  const intro = w("rooms.helplines.intro");
  // Her nation is not known and the services differ by nation: ask rather than list them all.
  $("helplines-intro").textContent = event.ask_nation ? `${intro} ${w("rooms.helplines.ask_nation")}` : intro;
  $("helplines-list").replaceChildren(...ordered.map(entry));
  $("helplines").hidden = false;
  // A replay after a reconnect brings the same card again: one notice per card.
  if (event.seq == null || !log.at(event.seq)) log.notice(w("rooms.helplines.notice"), event.seq);
}

export function hideHelplines() {
  $("helplines").hidden = true;
  $("helplines-list").replaceChildren();
}
