// The safety side panel of one chat: what was flagged (level, categories, the exact words,
// personal details she shared, abusive words), the guidance for each category, and the
// escalations with their outcome. Everything here is staff-only; she never receives it.

import { getJson } from "../shared/http.js";
import { formatTime, t } from "../shared/i18n.js";
import { categoryName, higher, levelBadge, levelName, quoted } from "./levels.js";

const PII_TEXT = {
  phone: "staff.flag.pii.phone",
  email: "staff.flag.pii.email",
  postcode: "staff.flag.pii.postcode",
  address: "staff.flag.pii.address",
  handle: "staff.flag.pii.handle",
  name: "staff.flag.pii.name",
};
// How she spoke of the risk when it was only a mention (graded low, no alert).
const STANCE_TEXT = {
  negated: "staff.flag.stance.negated",
  question: "staff.flag.stance.question",
  past: "staff.flag.stance.past",
  fiction: "staff.flag.stance.fiction",
  joke: "staff.flag.stance.joke",
};
const ESCALATION_LEVELS = {
  signpost: "staff.escalate.level.signpost",
  supervisor: "staff.escalate.level.supervisor",
  emergency: "staff.escalate.level.emergency",
};
const CONSENT = {
  given: "staff.escalate.consent.given",
  declined: "staff.escalate.consent.declined",
  not_asked: "staff.escalate.consent.not_asked",
};

// The service's escalation outcome codes (its data file), loaded once for every chat.
let outcomeCodes = null;

function loadOutcomeCodes() {
  if (!outcomeCodes) outcomeCodes = getJson("/api/staff/escalation-outcomes").catch((error) => {
    outcomeCodes = null;
    throw error;
  });
  return outcomeCodes;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export const escalationLevelName = (level) => (ESCALATION_LEVELS[level] ? t(ESCALATION_LEVELS[level]) : level);

// The words a flag's badge shows: the risk level, or what else raised it.
export function flagLabel(flag) {
  if (flag.level && flag.level !== "none") return levelName(flag.level);
  if (flag.pii?.length) return t("staff.flag.personal_details");
  if (flag.abuse?.length) return t("staff.flag.abusive_words");
  return t("staff.flag.flagged");
}

export class SafetyPanel {
  // `root` is the panel's <aside>; `outcome(escalationId, code, note)` sends an outcome.
  constructor(root, { outcome }) {
    this.root = root;
    this.outcome = outcome;
    this.level = "none";
    this.flags = root.querySelector(".flag-list");
    this.guidance = root.querySelector(".guidance-list");
    this.escalations = root.querySelector(".escalation-list");
    this.shownGuidance = new Set();
    this.items = new Map(); // escalation_id -> its <li>
  }

  // A `flag` event (live or replayed): newest first in the list.
  addFlag(flag) {
    this.level = higher(this.level, flag.level ?? "none");
    const item = el("li", `flag level-${flag.level ?? "none"}`);
    const head = el("p", "flag-head");
    head.append(levelBadge(flag.level, flagLabel(flag)), " ");
    const when = flag.refused
      ? t("staff.flag.refused_message", { time: formatTime(flag.at) })
      : t("staff.flag.message_at", { time: formatTime(flag.at) });
    head.append(el("span", "flag-when", when));
    item.append(head);
    if (flag.categories?.length) {
      item.append(this.line("staff.flag.categories", flag.categories.map(categoryName).join(", ")));
    }
    if (STANCE_TEXT[flag.stance]) item.append(el("p", "flag-stance", t(STANCE_TEXT[flag.stance])));
    if (flag.learned) {
      const percent = Math.round((flag.learned.danger ?? 0) * 100);
      item.append(el("p", "flag-learned", t("staff.flag.learned", { percent })));
    }
    if (flag.phrases?.length) {
      const words = el("p", "flag-phrases");
      words.append(el("span", "flag-label", t("staff.flag.phrases")), " ");
      for (const phrase of new Set(flag.phrases)) words.append(el("mark", "flag-phrase", phrase), " ");
      item.append(words);
    }
    for (const kind of flag.pii ?? []) {
      item.append(el("p", "flag-pii", t(PII_TEXT[kind] ?? "staff.flag.pii.other", { kind })));
    }
    if (flag.abuse?.length) item.append(this.line("staff.flag.abuse", quoted(flag.abuse)));
    this.flags.prepend(item);
    for (const guide of flag.guidance ?? []) this.addGuidance(guide);
    this.refresh();
  }

  line(labelKey, value) {
    const p = el("p", "flag-line");
    p.append(el("span", "flag-label", t(labelKey)), " ", value);
    return p;
  }

  // One category's steps, once per chat however often it is flagged.
  addGuidance(guide) {
    if (!guide?.category || this.shownGuidance.has(guide.category)) return;
    this.shownGuidance.add(guide.category);
    const section = el("section", "guidance");
    section.append(el("h5", "guidance-title", guide.title ?? categoryName(guide.category)));
    const steps = el("ol", "guidance-steps");
    for (const step of guide.steps ?? []) steps.append(el("li", "", step));
    section.append(steps);
    this.guidance.append(section);
  }

  // An `escalation` event: what was raised, with her consent, and a way to record the outcome.
  addEscalation(event) {
    if (this.items.has(event.escalation_id)) return;
    const item = el("li", `escalation escalation-${event.level}`);
    item.dataset.escalationId = String(event.escalation_id);
    const head = el("p", "escalation-head");
    head.append(
      el("strong", "", escalationLevelName(event.level)),
      " · ",
      el("span", "escalation-status", t("staff.escalation.open")),
    );
    item.append(head);
    item.append(el("p", "escalation-by", t("staff.escalation.by", { name: event.by ?? "", time: formatTime(event.at) })));
    item.append(this.line("staff.escalation.reason", event.reason ?? ""));
    item.append(this.line("staff.escalation.consent", t(CONSENT[event.consent] ?? "staff.unknown")));
    if (event.handoff_note) item.append(this.line("staff.escalation.note", event.handoff_note));
    item.append(this.outcomeForm(event.escalation_id));
    this.items.set(event.escalation_id, item);
    this.escalations.prepend(item);
    this.refresh();
  }

  outcomeForm(escalationId) {
    const wrap = el("div", "outcome");
    const open = el("button", "secondary outcome-open", t("staff.escalation.record"));
    open.type = "button";
    const form = el("form", "outcome-form");
    form.method = "post";
    form.hidden = true;
    const codeId = `outcome-code-${escalationId}`;
    const codeLabel = el("label", "", t("staff.escalation.code_label"));
    codeLabel.htmlFor = codeId;
    const code = el("select", "outcome-code");
    code.id = codeId;
    code.setAttribute("aria-required", "true");
    const id = `outcome-${escalationId}`;
    const label = el("label", "", t("staff.escalation.outcome_label"));
    label.htmlFor = id;
    const field = el("textarea");
    field.id = id;
    field.rows = 2;
    field.maxLength = 1000;
    const save = el("button", "", t("staff.escalation.save"));
    save.type = "submit";
    const cancel = el("button", "secondary", t("staff.escalation.cancel"));
    cancel.type = "button";
    const row = el("div", "row");
    row.append(save, cancel);
    const status = el("p", "outcome-status");
    status.setAttribute("role", "status");
    form.append(codeLabel, code, label, field, row);
    wrap.append(open, form, status);
    open.addEventListener("click", async () => {
      open.hidden = true;
      status.textContent = "";
      try {
        const { outcomes } = await loadOutcomeCodes();
        code.replaceChildren(
          new Option(t("staff.escalation.code_choose"), ""),
          ...outcomes.map((found) => new Option(found.label, found.id)),
        );
      } catch {
        status.textContent = t("staff.escalation.codes_failed");
        open.hidden = false;
        return;
      }
      form.hidden = false;
      code.focus();
    });
    cancel.addEventListener("click", () => {
      form.hidden = true;
      open.hidden = false;
      open.focus();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!code.value) {
        status.textContent = t("staff.escalation.code_needed");
        code.focus();
        return;
      }
      const sent = this.outcome(escalationId, code.value, field.value.trim());
      status.textContent = sent ? t("staff.escalation.saving") : t("staff.error.general");
    });
    return wrap;
  }

  // An `escalation_outcome` event closes the escalation.
  closeEscalation(event) {
    const item = this.items.get(event.escalation_id);
    if (!item) return;
    item.classList.add("is-closed");
    item.querySelector(".escalation-status").textContent = t("staff.escalation.closed");
    item.querySelector(".outcome")?.remove();
    const closed = this.line("staff.escalation.code", event.code ?? "");
    closed.classList.add("escalation-code");
    item.append(closed);
    // The label in words once the codes are loaded (the code itself until then).
    loadOutcomeCodes()
      .then(({ outcomes }) => {
        const found = outcomes.find((known) => known.id === event.code);
        if (found) closed.lastChild.textContent = found.label;
      })
      .catch(() => {});
    if (event.outcome) item.append(this.line("staff.escalation.outcome", event.outcome));
    item.append(el("p", "escalation-by", t("staff.escalation.by", { name: event.by ?? "", time: formatTime(event.at) })));
  }

  outcomeFailed(text) {
    for (const status of this.root.querySelectorAll(".outcome-status")) {
      if (status.textContent) status.textContent = text;
    }
  }

  refresh() {
    const flagged = this.flags.children.length > 0;
    this.root.querySelector(".safety-empty").hidden = flagged || this.escalations.children.length > 0;
    this.root.querySelector(".safety-flags").hidden = !flagged;
    this.root.querySelector(".safety-guidance").hidden = this.guidance.children.length === 0;
    this.root.querySelector(".safety-escalations").hidden = this.escalations.children.length === 0;
  }
}
