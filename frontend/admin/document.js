// An admin edits what the service configures, one kind per page (/admin/<kind>): service
// hours, retention, branding as forms; rooms and schedules, the helpline directory, outcome
// codes and canned replies as lists of entries to add, change or remove. The server checks a
// save exactly as it checks the data file at start, and names the entry and field it refuses;
// nothing is saved until it passes. This page only asks.

import { getJson, postJson } from "../shared/http.js";
import { hasKey, setLanguage, t } from "../shared/i18n.js";

const $ = (id) => document.getElementById(id);
// Each kind's page: its heading and its introduction (catalogue keys).
const KINDS = {
  hours: ["staff.admin.doc.kind.hours", "staff.admin.doc.intro.hours"],
  retention: ["staff.admin.doc.kind.retention", "staff.admin.doc.intro.retention"],
  branding: ["staff.admin.doc.kind.branding", "staff.admin.doc.intro.branding"],
  rooms: ["staff.admin.doc.kind.rooms", "staff.admin.doc.intro.rooms"],
  directory: ["staff.admin.doc.kind.directory", "staff.admin.doc.intro.directory"],
  outcomes: ["staff.admin.doc.kind.outcomes", "staff.admin.doc.intro.outcomes"],
  canned: ["staff.admin.doc.kind.canned", "staff.admin.doc.intro.canned"],
};
const DAYS = {
  monday: "staff.admin.hours.day.monday",
  tuesday: "staff.admin.hours.day.tuesday",
  wednesday: "staff.admin.hours.day.wednesday",
  thursday: "staff.admin.hours.day.thursday",
  friday: "staff.admin.hours.day.friday",
  saturday: "staff.admin.hours.day.saturday",
  sunday: "staff.admin.hours.day.sunday",
};
const RETENTION = ["transcript_retention_days", "visitor_session_hours", "audit_retention_days"];
const COLOURS = {
  accent: "staff.admin.branding.colour.accent",
  exit: "staff.admin.branding.colour.exit",
  page: "staff.admin.branding.colour.page",
  text: "staff.admin.branding.colour.text",
};
// Branding's texts: field, control.
const BRANDING_TEXTS = [
  ["name", "input"],
  ["exit_url", "input"],
  ["title", "input"],
  ["confidential_short", "textarea"],
  ["confidential", "textarea"],
];
// The lists each kind's editor shows as entries, with a new entry's starting fields.
const LISTS = {
  rooms: [
    [["rooms"], "staff.admin.list.rooms.rooms", { id: "", name: "", description: "", languages: ["en"], audience: "", ground_rules: [], capacity: 30, focus: "general" }],
    [["schedule", "weekly"], "staff.admin.list.rooms.weekly", { room: "", days: [], start: "19:00", end: "20:30" }],
    [["schedule", "one_off"], "staff.admin.list.rooms.one_off", { room: "", date: "", start: "19:00", end: "20:30" }],
    [["schedule", "cancelled"], "staff.admin.list.rooms.cancelled", { room: "", date: "" }],
  ],
  directory: [
    [["helplines"], "staff.admin.list.directory.helplines", { id: "", name: "", contacts: [{ kind: "phone", value: "" }], hours: "", nations: ["uk"], categories: [], description: "", emergency: false }],
  ],
  outcomes: [
    [["outcomes"], "staff.admin.list.outcomes.outcomes", { id: "", label: "" }],
    [["categories"], "staff.admin.list.outcomes.categories", { id: "", label: "" }],
  ],
  canned: [[["groups"], "staff.admin.list.canned.groups", { id: "", title: "", replies: [{ id: "", title: "", text: { en: "" } }] }]],
};
const kind = location.pathname.replace(/\/+$/, "").split("/").pop();
// opened: entries shown open (kept open across a redraw until the page is reloaded).
const state = { csrf: null, model: null, readers: [], opened: new Set() };
let uid = 0;

// A field's words: staff.admin.doc.field.<kind>.<name> where a kind means something of its own
// by it, else staff.admin.doc.field.<name>; the hint likewise under staff.admin.doc.hint. The data
// key is shown only for a field no catalogue names (tests/chat/test_admin_field_words.py
// keeps every field a kind's schema can produce named).
function words(part, name) {
  const key = [`staff.admin.doc.${part}.${kind}.${name}`, `staff.admin.doc.${part}.${name}`].find(hasKey);
  return key ? t(key) : null;
}
const label = (name) => words("field", name) ?? name;
const hintOf = (name) => words("hint", name);

function say(key, params) {
  $("status").textContent = t(key, params);
  $("status").hidden = false;
}

function element(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function field(labelText, control, hint) {
  control.id ||= `f${++uid}`;
  const wrap = element("div", { className: "field" });
  wrap.append(element("label", { htmlFor: control.id, textContent: labelText }), control);
  if (hint) {
    const note = element("p", { className: "hint", id: `${control.id}-hint`, textContent: hint });
    control.setAttribute("aria-describedby", note.id);
    wrap.append(note);
  }
  return wrap;
}

function input(value, type = "text") {
  return element("input", { type, value: value ?? "" });
}

function lines(list) {
  return element("textarea", { rows: Math.max(2, (list ?? []).length + 1), value: (list ?? []).join("\n") });
}

const splitLines = (text) => text.split("\n").map((s) => s.trim()).filter(Boolean);
const spans = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);

// --- forms for the simple kinds -------------------------------------------------------------

function hoursForm(body, box) {
  const spec = body ?? { timezone: "Europe/London", weekly: {}, closed: [], special: {} };
  if (body === null) box.append(element("p", { className: "notice", textContent: t("staff.admin.hours.always_open") }));
  const zone = input(spec.timezone);
  const zones = element("datalist", { id: "zones" });
  for (const name of Intl.supportedValuesOf?.("timeZone") ?? []) zones.append(element("option", { value: name }));
  zone.setAttribute("list", "zones");
  box.append(field(label("timezone"), zone, hintOf("timezone")), zones);
  const week = element("fieldset", { className: "doc-list" }, element("legend", { textContent: label("weekly") }));
  week.append(element("p", { className: "hint", textContent: hintOf("weekly") }));
  const days = element("div", { className: "days" });
  const dayInputs = Object.entries(DAYS).map(([day, words]) => {
    const box = input((spec.weekly?.[day] ?? []).join(", "));
    box.id = `day-${day}`;
    days.append(element("label", { htmlFor: box.id, textContent: t(words) }), box);
    return [day, box];
  });
  week.append(days);
  const closed = lines(spec.closed);
  const special = lines(Object.entries(spec.special ?? {}).map(([date, s]) => `${date} ${s.join(", ")}`));
  box.append(week, field(label("closed"), closed, hintOf("closed")), field(label("special"), special, hintOf("special")));
  return () => {
    const weekly = {};
    for (const [day, box] of dayInputs) if (spans(box.value).length) weekly[day] = spans(box.value);
    const specialDays = {};
    for (const line of splitLines(special.value)) {
      const [date, ...rest] = line.split(/\s+/);
      specialDays[date] = spans(rest.join(" "));
    }
    return { timezone: zone.value.trim(), weekly, closed: splitLines(closed.value), special: specialDays };
  };
}

function retentionForm(body, box) {
  const boxes = RETENTION.map((name) => {
    const box = input(body[name], "number");
    box.min = "1";
    box.step = name.endsWith("hours") ? "any" : "1";
    return [name, box];
  });
  for (const [name, control] of boxes) box.append(field(label(name), control, hintOf(name)));
  return () => Object.fromEntries(boxes.map(([name, control]) => [name, control.value === "" ? null : Number(control.value)]));
}

function brandingForm(body, box) {
  const texts = BRANDING_TEXTS.map(([name, tag]) => {
    const value = typeof body[name] === "object" ? body[name]?.en : body[name];
    const control = tag === "input" ? input(value) : element("textarea", { rows: 3, value: value ?? "" });
    box.append(field(label(name), control, hintOf(name)));
    return [name, control];
  });
  const colours = element("fieldset", { className: "doc-list" }, element("legend", { textContent: label("colours") }));
  colours.append(element("p", { className: "hint", textContent: hintOf("colours") }));
  const colourInputs = Object.entries(COLOURS).map(([name, words]) => {
    const control = input(body.colours?.[name]);
    colours.append(field(t(words), control));
    return [name, control];
  });
  box.append(colours);
  return () => {
    // Only the English words are edited here; the other languages' stay as they were.
    const look = structuredClone(body);
    for (const [name, control] of texts) {
      const value = control.value.trim();
      if (["title", "confidential_short", "confidential"].includes(name)) {
        look[name] = { ...(look[name] ?? {}) };
        if (value) look[name].en = value;
        else delete look[name].en;
      } else if (value) look[name] = value;
      else delete look[name];
    }
    look.colours = {};
    for (const [name, control] of colourInputs) if (control.value.trim()) look.colours[name] = control.value.trim();
    return look;
  };
}

// --- the list editor ------------------------------------------------------------------------

function at(object, path) {
  return path.reduce((value, key) => value?.[key], object);
}

function entryName(entry, index) {
  const name = entry.id || [entry.room, entry.date || (entry.days ?? []).join(", ")].filter(Boolean).join(" · ");
  return name || t("staff.admin.doc.new_entry", { number: index + 1 });
}

function entryField(entry, key, readers) {
  // A field emptied before a redraw (undefined) comes back as an empty text box.
  const value = entry[key] === undefined ? "" : entry[key];
  let control;
  let read;
  if (typeof value === "boolean") {
    control = element("input", { type: "checkbox", checked: value });
    read = () => control.checked;
  } else if (typeof value === "number") {
    control = input(value, "number");
    read = () => (control.value === "" ? undefined : Number(control.value));
  } else if (typeof value === "string") {
    control = value.length > 70 || value.includes("\n") ? element("textarea", { rows: 3, value }) : input(value);
    read = () => control.value.trim();
  } else if (Array.isArray(value) && value.every((item) => typeof item !== "object")) {
    control = lines(value);
    read = () => splitLines(control.value);
  } else {
    control = element("textarea", { className: "json", rows: 4, value: JSON.stringify(value, null, 2) });
    read = () => {
      try {
        return JSON.parse(control.value);
      } catch {
        throw new Error(t("staff.admin.doc.not_json", { field: label(key) }));
      }
    };
  }
  const hint = hintOf(key) ?? (Array.isArray(value) && !value.some((item) => typeof item === "object") ? t("staff.admin.doc.one_per_line") : null);
  const wrap = control.type === "checkbox"
    ? element("div", { className: "check" }, control, element("label", { htmlFor: (control.id = `f${++uid}`), textContent: label(key) }))
    : field(label(key), control, hint);
  // The data key stays beside the words: the server's errors name fields by it.
  wrap.querySelector("label").dataset.field = key;
  readers.push(() => {
    const got = read();
    // An optional field left empty is left out, as it would be in the data file.
    // (undefined, not deleted: JSON leaves it out and the field keeps its place in the entry.)
    const empty = got === "" || got === undefined || (Array.isArray(got) && !got.length);
    entry[key] = empty ? undefined : got;
  });
  return wrap;
}

function listEditor(path, words, template) {
  const list = at(state.model, path) ?? [];
  const title = t(words);
  const box = element("fieldset", { className: "doc-list" }, element("legend", { textContent: title }));
  list.forEach((entry, index) => {
    const legend = entryName(entry, index);
    // Closed until opened, so a long list reads as a list; a new entry opens at once.
    const card = element("details", { className: "entry", open: state.opened.has(entry) }, element("summary", { textContent: legend }));
    for (const key of Object.keys(entry)) card.append(entryField(entry, key, state.readers));
    const remove = element("button", { type: "button", className: "secondary danger", textContent: t("staff.admin.doc.remove", { name: legend }) });
    remove.addEventListener("click", () => {
      readAll();
      list.splice(index, 1);
      draw();
      say("staff.admin.doc.removed_unsaved", { name: legend });
    });
    card.addEventListener("toggle", () => (card.open ? state.opened.add(entry) : state.opened.delete(entry)));
    card.append(remove);
    box.append(card);
  });
  const add = element("button", { type: "button", className: "secondary", textContent: t("staff.admin.doc.add", { list: title }) });
  add.addEventListener("click", () => {
    readAll();
    const entry = structuredClone(template);
    list.push(entry);
    state.opened.add(entry);
    draw();
    const cards = $("doc-fields").querySelectorAll("fieldset.doc-list")[LISTS[kind].findIndex(([p]) => p === path)].querySelectorAll("details.entry");
    cards[cards.length - 1]?.querySelector("input, textarea")?.focus();
  });
  box.append(add);
  return box;
}

function settingsOf(object, prefix, readers, box) {
  // The scalar settings beside the lists (a schedule's time zone, the minimum outcomes).
  for (const [key, value] of Object.entries(object ?? {})) {
    if (typeof value !== "object" || value === null) box.append(entryField(object, key, readers));
  }
}

function listsForm(box) {
  for (const [path] of LISTS[kind]) {
    const parent = path.length > 1 ? at(state.model, path.slice(0, -1)) : state.model;
    if (parent && !(path.at(-1) in parent)) parent[path.at(-1)] = [];
  }
  const settings = element("div");
  settingsOf(state.model, "", state.readers, settings);
  if (kind === "rooms") settingsOf(state.model.schedule, "schedule", state.readers, settings);
  if (settings.childElementCount) {
    box.append(element("fieldset", { className: "doc-list" }, element("legend", { textContent: t("staff.admin.doc.settings") }), settings));
  }
  for (const [path, words, template] of LISTS[kind]) box.append(listEditor(path, words, template));
  return () => state.model;
}

// --- the page ---------------------------------------------------------------------------------

function readAll() {
  for (const read of state.readers) read();
}

function draw() {
  const box = $("doc-fields");
  box.replaceChildren();
  state.readers = [];
  const forms = { hours: hoursForm, retention: retentionForm, branding: brandingForm };
  const read = forms[kind] ? forms[kind](state.model, box) : listsForm(box);
  state.read = () => {
    readAll();
    return read();
  };
}

function show(view) {
  state.model = structuredClone(view.body);
  $("doc-source").textContent = view.edited
    ? t("staff.admin.doc.edited", { at: new Date(view.saved_at).toLocaleString() })
    : t("staff.admin.doc.shipped");
  draw();
}

function refuse(message) {
  $("doc-error").textContent = message;
  $("doc-error").hidden = false;
  $("doc-error").focus();
}

async function save(event) {
  event.preventDefault();
  $("doc-error").hidden = true;
  let body;
  try {
    body = state.read();
  } catch (error) {
    return refuse(error.message);
  }
  const response = await fetch(`/api/admin/documents/${kind}`, {
    method: "PUT",
    headers: { "X-CSRF-Token": state.csrf, "Content-Type": "application/json" },
    body: JSON.stringify(body),
    credentials: "same-origin",
    cache: "no-store",
  });
  const data = await response.json().catch(() => null);
  // Refused: what she typed stays on the page to be corrected.
  if (!response.ok) return refuse(t("staff.admin.doc.refused", { problem: data?.detail ?? response.status }));
  show(data);
  say("staff.admin.doc.saved");
}

async function reset() {
  try {
    show(await postJson(`/api/admin/documents/${kind}/reset`, {}, { "X-CSRF-Token": state.csrf }));
    $("reset-confirm").hidden = true;
    say("staff.admin.doc.reset_done");
  } catch (error) {
    refuse(error.detail ?? t("staff.admin.error.general"));
  }
}

function navigation() {
  const links = [["/admin", t("staff.admin.heading")], ...Object.entries(KINDS).map(([name, [heading]]) => [`/admin/${name}`, t(heading)])];
  $("admin-nav").replaceChildren(
    ...links.map(([href, text]) => {
      const link = element("a", { href, textContent: text });
      if (href === location.pathname) link.setAttribute("aria-current", "page");
      return link;
    }),
    element("a", { href: "/staff", textContent: t("staff.admin.to_console") }),
  );
}

async function start() {
  await setLanguage("en");
  navigation();
  if (!(kind in KINDS)) return say("staff.admin.error.general");
  const [heading, intro] = KINDS[kind];
  $("doc-heading").textContent = t(heading);
  document.title = `${t(heading)} · Willow`;
  $("doc-intro").textContent = t(intro);
  let me;
  try {
    me = await getJson("/api/staff/me");
  } catch {
    return say("staff.admin.login_needed");
  }
  if (me.staff.role !== "admin") return say("staff.admin.doc.admins_only");
  if (me.staff.second_factor_needed) return say("staff.admin.two_step_needed");
  state.csrf = me.csrf_token;
  show(await getJson(`/api/admin/documents/${kind}`));
  $("doc-form").addEventListener("submit", save);
  $("doc-reset").addEventListener("click", () => {
    $("reset-confirm").hidden = false;
    $("reset-yes").focus();
  });
  $("reset-no").addEventListener("click", () => ($("reset-confirm").hidden = true));
  $("reset-yes").addEventListener("click", reset);
  $("editor").hidden = false;
}

start();
