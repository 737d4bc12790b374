// Warm transfer: hand this chat to a named adviser or supervisor, to a specialism (the server
// picks a free adviser who holds it and reads her language), or to any supervisor, with a note
// for them. She is told someone else is joining; the receiver sees the whole chat.

import { getJson } from "../shared/http.js";
import { t } from "../shared/i18n.js";

const ROLES = { adviser: "staff.transfer.role.adviser", supervisor: "staff.transfer.role.supervisor" };

export class TransferForm {
  constructor(box, send) {
    this.box = box;
    this.send = send;
    this.select = box.querySelector(".transfer-to");
    this.note = box.querySelector(".transfer-note");
    this.status = box.querySelector(".transfer-status");
    box.querySelector(".transfer-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    box.querySelector(".transfer-cancel").addEventListener("click", () => this.close());
  }

  async open(opener) {
    this.opener = opener;
    this.box.hidden = false;
    this.status.textContent = "";
    const any = new Option(t("staff.transfer.any_supervisor"), "supervisor");
    const specialisms = document.createElement("optgroup");
    specialisms.label = t("staff.transfer.specialisms");
    const people = document.createElement("optgroup");
    people.label = t("staff.transfer.people");
    this.select.replaceChildren(any, specialisms, people);
    this.select.focus();
    try {
      for (const code of await getJson("/api/staff/specialisms")) {
        specialisms.append(new Option(t("staff.transfer.to_specialism", { name: specialismName(code) }), `specialism:${code}`));
      }
    } catch {
      specialisms.remove();
    }
    try {
      const found = await getJson("/api/staff/transfer-targets");
      for (const person of found) {
        const role = t(ROLES[person.role] ?? ROLES.adviser);
        const state = person.available
          ? t("staff.transfer.load", { chats: person.chats, capacity: person.capacity })
          : t("staff.transfer.away");
        const option = new Option(`${person.name} (${role}, ${state})`, `adviser:${person.id}`);
        option.disabled = !person.available;
        people.append(option);
      }
    } catch {
      this.status.textContent = t("staff.transfer.load_failed");
    }
  }

  close() {
    this.box.hidden = true;
    this.opener?.focus();
  }

  submit() {
    const [to, id] = this.select.value.split(":");
    const event = { to, note: this.note.value.trim() };
    if (to === "specialism") event.specialism = id;
    else if (id) event.staff_id = Number(id);
    if (this.send(event)) this.status.textContent = t("staff.transfer.sending");
  }

  done(name) {
    this.box.hidden = true;
    this.note.value = "";
    this.status.textContent = "";
    return t("staff.transfer.done", { name });
  }

  failed(message) {
    this.status.textContent = message;
  }
}

const REFUSALS = {
  unknown: "staff.transfer.refused.unknown",
  self: "staff.transfer.refused.self",
  away: "staff.transfer.refused.away",
  at_capacity: "staff.transfer.refused.at_capacity",
  no_supervisor: "staff.transfer.refused.no_supervisor",
  no_such_specialism: "staff.transfer.refused.no_such_specialism",
  nobody_free: "staff.transfer.refused.nobody_free",
};

const SPECIALISM_NAMES = {
  domestic_abuse: "staff.specialism.domestic_abuse",
  substance_use: "staff.specialism.substance_use",
  mental_health: "staff.specialism.mental_health",
  pregnancy_parenting: "staff.specialism.pregnancy_parenting",
  sex_work: "staff.specialism.sex_work",
  sexual_violence: "staff.specialism.sexual_violence",
  forced_marriage_honour: "staff.specialism.forced_marriage_honour",
};

export function specialismName(code) {
  return SPECIALISM_NAMES[code] ? t(SPECIALISM_NAMES[code]) : code;
}

export function transferRefusal(event) {
  return t(REFUSALS[event.reason] ?? "staff.error.general");
}
