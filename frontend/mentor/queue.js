// What needs the mentor: danger alerts, messages held for her, reports of messages and private
// "I think I know someone here" flags, newest first. Text anyone wrote is set as text only.

import { formatTime } from "../shared/i18n.js";
import { w } from "../rooms/words.js";
import { closeAction, openAction } from "./actions.js";

// How a risk can be spoken of without being current: a note for the mentor, not an alert.
export const MENTION_STANCES = ["negated", "question", "past", "fiction", "joke"];

export class Queue {
  constructor(lists, empty, { send, textOf, move }) {
    this.lists = lists;
    this.empty = empty;
    this.send = send;
    this.textOf = textOf;
    this.move = move;
  }

  reset(state) {
    for (const list of Object.values(this.lists)) list.replaceChildren();
    for (const held of state.held) this.held(held);
    for (const report of state.reports) this.report(report);
    this.drawEmpty();
  }

  drawEmpty() {
    this.empty.hidden = Object.values(this.lists).some((list) => list.children.length > 0);
  }

  add(list, item) {
    list.prepend(item);
    this.drawEmpty();
  }

  alert(event) {
    const mention = MENTION_STANCES.includes(event.risk.stance);
    const level = w(`mentor.risk.${event.risk.level}`);
    const item = mention
      ? card("note", w("mentor.note.title", { name: event.name }), event.at)
      : card("alert", w("mentor.alert.title", { name: event.name, level }), event.at);
    if (mention) item.append(line(w(`mentor.stance.${event.risk.stance}`)));
    const words = event.risk.phrases.length ? event.risk.phrases.join(", ") : "";
    if (words) item.append(line(w("mentor.alert.words", { words }), true));
    if (event.message_seq != null) item.append(line(this.textOf(event.message_seq), true));
    for (const guide of event.guidance ?? []) item.append(guidance(guide));
    const row = document.createElement("div");
    row.className = "row";
    row.append(
      button(w("mentor.person.move"), () => this.move(event.participant)),
      button(w("mentor.alert.dismiss"), () => {
        item.remove();
        this.drawEmpty();
      }, "secondary"),
    );
    item.append(row);
    this.add(this.lists.alerts, item);
  }

  known(event) {
    const item = card("warn", w("mentor.known.title", { name: event.name }), event.at);
    item.append(line(w("mentor.known.hint")));
    item.append(
      button(w("mentor.alert.dismiss"), () => {
        item.remove();
        this.drawEmpty();
      }, "secondary"),
    );
    this.add(this.lists.alerts, item);
  }

  held(event) {
    const item = card("held", w("mentor.held.title", { name: event.name }), event.at);
    item.dataset.held = String(event.held_id);
    item.append(line(event.body, true));
    if (event.risk?.abuse?.length) item.append(line(w("mentor.held.abuse", { words: event.risk.abuse.join(", ") })));
    const row = document.createElement("div");
    row.className = "row";
    row.append(
      button(w("mentor.held.release"), () => this.send({ type: "room_release", held_id: event.held_id })),
      button(w("mentor.held.discard"), () => this.send({ type: "room_discard", held_id: event.held_id }), "secondary"),
    );
    item.append(row);
    this.add(this.lists.held, item);
  }

  decided(heldId) {
    this.lists.held.querySelector(`[data-held="${Number(heldId)}"]`)?.remove();
    this.drawEmpty();
  }

  report(event) {
    const item = card("report", w("mentor.report.title"), event.at);
    item.dataset.report = String(event.report_id);
    const text = this.textOf(event.message_seq);
    if (text) item.append(line(text, true));
    if (event.reason) item.append(line(w("mentor.report.reason", { reason: event.reason })));
    const slot = document.createElement("div");
    item.append(
      button(w("mentor.report.close"), () =>
        openAction(
          slot,
          { title: w("mentor.report.close"), textKey: "mentor.report.outcome", required: true, confirmKey: "mentor.report.close" },
          ({ text: outcome }) => this.send({ type: "room_report_close", report_id: event.report_id, outcome }),
        ),
      ),
      slot,
    );
    this.add(this.lists.reports, item);
  }

  reportClosed(reportId) {
    closeAction();
    this.lists.reports.querySelector(`[data-report="${Number(reportId)}"]`)?.remove();
    this.drawEmpty();
  }
}

function card(kind, title, at) {
  const item = document.createElement("li");
  item.className = `queue-item queue-${kind}`;
  const heading = document.createElement("p");
  heading.className = "queue-heading";
  const words = document.createElement("bdi");
  words.textContent = title;
  const time = document.createElement("span");
  time.className = "msg-time";
  time.textContent = at ? formatTime(at) : "";
  heading.append(words, " ", time);
  item.append(heading);
  return item;
}

function line(text, written = false) {
  const element = document.createElement("p");
  element.textContent = text;
  if (written) {
    element.dir = "auto";
    element.className = "queue-text";
  }
  return element;
}

function button(text, onClick, kind = "") {
  const element = document.createElement("button");
  element.type = "button";
  element.className = `small ${kind}`.trim();
  element.textContent = text;
  element.addEventListener("click", onClick);
  return element;
}

// One category's step-by-step guidance, as advisers get it in the staff console.
function guidance(guide) {
  const section = document.createElement("section");
  section.className = "guidance";
  const title = document.createElement("h4");
  title.className = "guidance-title";
  title.textContent = w("mentor.alert.guidance", { title: guide.title ?? guide.category });
  const steps = document.createElement("ol");
  steps.className = "guidance-steps";
  for (const step of guide.steps ?? []) {
    const item = document.createElement("li");
    item.textContent = step;
    steps.append(item);
  }
  section.append(title, steps);
  return section;
}
