// Directory search for a warm referral: words, category and nation, with each service's
// contacts and who it is for. The server says what it does not know (an unknown category),
// and that message is shown as it is.

import { HttpError, getJson } from "../shared/http.js";
import { t } from "../shared/i18n.js";
import { RISK_CATEGORIES, categoryName } from "./levels.js";

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// The directory's codes as words (risk categories come from levels.js); a code missing here
// is shown readable, never raw.
const NATION_NAMES = {
  uk: "staff.nation.uk",
  england: "staff.nation.england",
  wales: "staff.nation.wales",
  scotland: "staff.nation.scotland",
  northern_ireland: "staff.nation.northern_ireland",
};
const SERVICE_CATEGORIES = {
  alcohol: "staff.directory.category.alcohol",
  drugs: "staff.directory.category.drugs",
  emergency: "staff.directory.category.emergency",
  emotional_support: "staff.directory.category.emotional_support",
  homelessness: "staff.directory.category.homelessness",
  legal: "staff.directory.category.legal",
  lgbt: "staff.directory.category.lgbt",
  medical: "staff.directory.category.medical",
  mental_health: "staff.directory.category.mental_health",
  parenting: "staff.directory.category.parenting",
  sex_work: "staff.directory.category.sex_work",
  stalking: "staff.directory.category.stalking",
  under_18: "staff.directory.category.under_18",
};
const readable = (code) => String(code).replaceAll("_", " ");
const nationName = (code) => (NATION_NAMES[code] ? t(NATION_NAMES[code]) : readable(code));
function serviceCategoryName(code) {
  if (SERVICE_CATEGORIES[code]) return t(SERVICE_CATEGORIES[code]);
  return RISK_CATEGORIES.includes(code) ? categoryName(code) : readable(code);
}

export class DirectoryPanel {
  constructor() {
    this.form = $("directory-form");
    this.results = $("directory-results");
    this.status = $("directory-status");
    this.asked = 0;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.search();
    });
  }

  async search() {
    const data = new FormData(this.form);
    const params = new URLSearchParams();
    for (const name of ["q", "category", "nation"]) {
      const value = String(data.get(name) ?? "").trim();
      if (value) params.set(name, value);
    }
    const asked = ++this.asked;
    this.status.textContent = t("staff.directory.searching");
    try {
      const found = await getJson(`/api/directory?${params}`);
      if (asked !== this.asked) return;
      this.results.replaceChildren(...(found ?? []).map((entry) => this.entry(entry)));
      this.status.textContent = found?.length
        ? t("staff.directory.count", { count: found.length })
        : t("staff.directory.none");
    } catch (error) {
      if (asked !== this.asked) return;
      this.results.replaceChildren();
      const detail = error instanceof HttpError && typeof error.detail === "string" ? error.detail : null;
      this.status.textContent = detail ? t("staff.directory.refused", { detail }) : t("staff.error.general");
    }
  }

  entry(entry) {
    const item = el("li", entry.emergency ? "directory-entry is-emergency" : "directory-entry");
    item.append(el("h4", "directory-name", entry.name));
    if (entry.description) item.append(el("p", "directory-description", entry.description));
    const contacts = el("ul", "directory-contacts");
    for (const contact of entry.contacts ?? []) {
      const li = el("li");
      const value = String(contact.value ?? "");
      const digits = value.replace(/[^0-9+]/g, "");
      const link = el("a", "", value);
      if (contact.kind === "phone") link.href = `tel:${digits}`;
      else if (contact.kind === "text") link.href = `sms:${digits}`;
      else if (/^https:\/\//i.test(value)) {
        link.href = value;
        link.rel = "noopener noreferrer";
        link.target = "_blank";
      }
      const kinds = { phone: "staff.directory.phone", text: "staff.directory.text", web: "staff.directory.web" };
      li.append(el("span", "directory-kind", t(kinds[contact.kind] ?? "staff.directory.web")), " ", link);
      if (contact.note) li.append(" — ", contact.note);
      contacts.append(li);
    }
    item.append(contacts);
    const facts = [
      ["staff.directory.hours", entry.hours],
      ["staff.directory.eligibility", entry.eligibility],
      ["staff.directory.nations", (entry.nations ?? []).map(nationName).join(", ")],
      ["staff.directory.categories", (entry.categories ?? []).map(serviceCategoryName).join(", ")],
    ];
    for (const [key, value] of facts) {
      if (value) item.append(el("p", "directory-fact", t(key, { value })));
    }
    return item;
  }
}
