// The admin's staff accounts page: list everyone, add a person (a one-time code, shown once,
// with which they set their own password), change a role or a display name, make a reset
// code, disable an account. The server checks and audits every change; this page only asks.

import { getJson, postJson } from "../shared/http.js";
import { setLanguage, t } from "../shared/i18n.js";

const $ = (id) => document.getElementById(id);
const ROLES = {
  adviser: "staff.admin.role.adviser",
  mentor: "staff.admin.role.mentor",
  supervisor: "staff.admin.role.supervisor",
  admin: "staff.admin.role.admin",
};
const NEEDED = [
  ["username", "add-username", "staff.admin.error.username_needed"],
  ["display_name", "add-display-name", "staff.admin.error.display_name_needed"],
];
const state = { csrf: null, me: null, staff: [], managing: null };

function say(key, params) {
  $("status").textContent = t(key, params);
  $("status").hidden = false;
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function fillRoles(select) {
  select.replaceChildren(
    ...Object.entries(ROLES).map(([role, key]) => {
      const option = document.createElement("option");
      option.value = role;
      option.textContent = t(key);
      return option;
    }),
  );
}

function problem(error) {
  return typeof error?.detail === "string" ? error.detail : t("staff.admin.error.general");
}

async function call(method, path, body) {
  const headers = { "X-CSRF-Token": state.csrf ?? "" };
  if (method === "POST") return postJson(path, body, headers);
  const response = await fetch(path, {
    method,
    headers: { ...headers, "Content-Type": "application/json" },
    body: JSON.stringify(body),
    credentials: "same-origin",
    cache: "no-store",
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw { status: response.status, detail: data?.detail };
  return data;
}

function draw() {
  const rows = state.staff.map((person) => {
    const row = document.createElement("tr");
    if (person.disabled) row.className = "is-disabled";
    const name = document.createElement("th");
    name.scope = "row";
    name.textContent = person.display_name;
    row.append(
      name,
      cell(person.username),
      cell(t(ROLES[person.role] ?? person.role)),
      cell(t(person.second_factor ? "staff.admin.two_step.on" : "staff.admin.two_step.off")),
      cell(t(person.trained ? "staff.admin.trained.yes" : "staff.admin.trained.no")),
      cell(t(person.disabled ? "staff.admin.state.disabled" : "staff.admin.state.active")),
    );
    const actions = document.createElement("td");
    if (!person.disabled) {
      const manage = document.createElement("button");
      manage.type = "button";
      manage.className = "secondary";
      manage.textContent = t("staff.admin.manage.open", { name: person.display_name });
      manage.addEventListener("click", () => openManage(person));
      actions.append(manage);
    }
    row.append(actions);
    return row;
  });
  $("staff-rows").replaceChildren(...rows);
}

async function load() {
  state.staff = await getJson("/api/admin/staff");
  state.staff.sort((a, b) => a.display_name.localeCompare(b.display_name));
  draw();
}

function showCode(made, key) {
  $("code-title").textContent = t(key, { name: made.staff.display_name });
  $("code-intro").textContent = t("staff.admin.code.intro", { name: made.staff.display_name, hours: made.valid_hours, username: made.staff.username });
  $("code-value").textContent = made.reset_code;
  $("code-panel").hidden = false;
  $("code-panel").focus();
}

function openManage(person) {
  state.managing = person;
  $("manage-title").textContent = t("staff.admin.manage.title", { name: person.display_name, username: person.username });
  $("manage-display-name").value = person.display_name;
  $("manage-role").value = person.role;
  $("manage-trained").checked = person.trained;
  $("manage-training-note").value = "";
  // An admin cannot change her own role (nor lock everyone out).
  $("manage-role").disabled = person.id === state.me.id;
  $("manage-disable").hidden = person.id === state.me.id;
  $("manage-error").hidden = true;
  $("disable-confirm").hidden = true;
  $("manage").hidden = false;
  $("manage").focus();
}

function closeManage() {
  state.managing = null;
  $("manage").hidden = true;
}

function manageError(error) {
  $("manage-error").textContent = problem(error);
  $("manage-error").hidden = false;
}

async function saveManage(event) {
  event.preventDefault();
  const person = state.managing;
  const change = {};
  const shown = $("manage-display-name").value.trim();
  if (!shown) return manageError({ detail: t("staff.admin.error.display_name_needed") });
  if (shown !== person.display_name) change.display_name = shown;
  if (!$("manage-role").disabled && $("manage-role").value !== person.role) change.role = $("manage-role").value;
  const trained = $("manage-trained").checked;
  if (!Object.keys(change).length && trained === person.trained) return closeManage();
  try {
    // Training first: a refused name or role then leaves it recorded, which the list shows.
    if (trained !== person.trained) {
      const note = $("manage-training-note").value.trim();
      await call("POST", `/api/admin/staff/${person.id}/training`, { trained, note });
    }
    const saved = Object.keys(change).length ? await call("PATCH", `/api/admin/staff/${person.id}`, change) : person;
    closeManage();
    await load();
    say(change.role ? "staff.admin.saved_role" : "staff.admin.saved", { name: saved.display_name });
  } catch (error) {
    manageError(error);
  }
}

async function makeResetCode() {
  try {
    const made = await call("POST", `/api/admin/staff/${state.managing.id}/reset-code`, {});
    closeManage();
    showCode(made, "staff.admin.code.reset_title");
  } catch (error) {
    manageError(error);
  }
}

async function disable() {
  const person = state.managing;
  try {
    await call("POST", `/api/admin/staff/${person.id}/disable`, { note: "" });
    closeManage();
    await load();
    say("staff.admin.disabled", { name: person.display_name });
  } catch (error) {
    manageError(error);
  }
}

async function add(event) {
  event.preventDefault();
  const form = new FormData($("add-form"));
  const body = Object.fromEntries([...form].map(([key, value]) => [key, String(value).trim()]));
  $("add-error").hidden = true;
  for (const [key, field, words] of NEEDED) {
    if (!body[key]) {
      $("add-error").textContent = t(words);
      $("add-error").hidden = false;
      $(field).focus();
      return;
    }
  }
  try {
    const made = await call("POST", "/api/admin/staff/invite", body);
    $("add-form").reset();
    await load();
    showCode(made, "staff.admin.code.new_title");
  } catch (error) {
    // What she typed stays in the form, so a refused name can be corrected.
    $("add-error").textContent = problem(error);
    $("add-error").hidden = false;
  }
}

async function start() {
  await setLanguage("en");
  let me;
  try {
    me = await getJson("/api/staff/me");
  } catch {
    return say("staff.admin.login_needed");
  }
  if (me.staff.role !== "admin") return say("staff.admin.admins_only");
  if (me.staff.second_factor_needed) return say("staff.admin.two_step_needed");
  state.csrf = me.csrf_token;
  state.me = me.staff;
  fillRoles($("add-role"));
  fillRoles($("manage-role"));
  $("add-form").addEventListener("submit", add);
  $("manage-form").addEventListener("submit", saveManage);
  $("manage-close").addEventListener("click", closeManage);
  $("manage-reset").addEventListener("click", makeResetCode);
  $("manage-disable").addEventListener("click", () => {
    $("disable-question").textContent = t("staff.admin.disable.question", { name: state.managing.display_name });
    $("disable-confirm").hidden = false;
    $("disable-yes").focus();
  });
  $("disable-no").addEventListener("click", () => ($("disable-confirm").hidden = true));
  $("disable-yes").addEventListener("click", disable);
  $("code-done").addEventListener("click", () => {
    $("code-value").textContent = "";
    $("code-panel").hidden = true;
  });
  await load();
  $("people").hidden = false;
  $("add").hidden = false;
}

start();
