// The people in the room as the mentor sees them: room name, whether she is muted, said she
// may know someone, or wrote something that showed danger, and what the mentor can do.

import { formatTime } from "../shared/i18n.js";
import { w } from "../rooms/words.js";

const ACTIONS = ["mute", "remove", "ban", "move"];

export class People {
  constructor(list, empty, { act }) {
    this.list = list;
    this.empty = empty;
    this.act = act;
    this.people = new Map();
  }

  reset(participants) {
    this.people = new Map(participants.map((p) => [p.participant, { ...p }]));
    this.draw();
  }

  get(id) {
    return this.people.get(id);
  }

  join(event) {
    this.people.set(event.participant, {
      participant: event.participant,
      name: event.name,
      muted_until: null,
      knows_someone: false,
      risk_level: "none",
    });
    this.draw();
  }

  leave(id) {
    this.people.delete(id);
    this.draw();
  }

  rename(id, name) {
    const person = this.people.get(id);
    if (person) person.name = name;
    this.draw();
  }

  update(change) {
    const person = this.people.get(change.participant);
    if (!person) return;
    if ("muted_until" in change) person.muted_until = change.muted_until;
    if (change.knows_someone) person.knows_someone = true;
    if (change.risk_level && change.risk_level !== "none") person.risk_level = change.risk_level;
    if (["removed", "banned", "moved", "left", "timeout"].includes(change.status)) {
      this.people.delete(change.participant);
    }
    this.draw();
  }

  // Where an action's form opens for this person.
  slot(id) {
    return this.list.querySelector(`[data-participant="${Number(id)}"] .person-action`);
  }

  draw() {
    this.empty.hidden = this.people.size > 0;
    this.list.replaceChildren(...[...this.people.values()].map((person) => this.item(person)));
  }

  item(person) {
    const item = document.createElement("li");
    item.className = "person";
    item.dataset.participant = String(person.participant);
    const name = document.createElement("bdi");
    name.className = "person-name";
    name.textContent = person.name;
    const badges = document.createElement("p");
    badges.className = "badges";
    const muted = person.muted_until && new Date(person.muted_until) > new Date();
    if (muted) badges.append(badge(w("mentor.person.muted", { time: formatTime(person.muted_until) })));
    if (person.knows_someone) badges.append(badge(w("mentor.person.knows_someone"), "warn"));
    if (person.risk_level && person.risk_level !== "none") {
      badges.append(badge(w(`mentor.risk.${person.risk_level}`), "alert"));
    }
    const buttons = document.createElement("div");
    buttons.className = "row person-buttons";
    for (const kind of muted ? ["unmute", ...ACTIONS.slice(1)] : ACTIONS) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary small";
      button.textContent = w(`mentor.person.${kind}`);
      button.setAttribute("aria-label", `${button.textContent}: ${person.name}`);
      button.addEventListener("click", () => this.act(kind, person));
      buttons.append(button);
    }
    const action = document.createElement("div");
    action.className = "person-action";
    item.append(name, badges, buttons, action);
    return item;
  }
}

function badge(text, kind = "info") {
  const element = document.createElement("span");
  element.className = `badge badge-${kind}`;
  element.textContent = text;
  return element;
}
