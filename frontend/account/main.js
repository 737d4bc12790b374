// A staff member's own account: change her password (her other logins end), or, logged out,
// set a password with the one-time code an admin gave her (every login ends).

import { getJson, postJson } from "../shared/http.js";
import { setLanguage, t } from "../shared/i18n.js";

const $ = (id) => document.getElementById(id);

function say(key, params) {
  $("status").textContent = t(key, params);
  $("status").hidden = false;
}

function refused(errorId, error, known) {
  const detail = typeof error?.detail === "string" ? error.detail : null;
  $(errorId).textContent = known[error?.status] ? t(known[error.status]) : detail ?? t("staff.admin.error.general");
  $(errorId).hidden = false;
}

function missing(form, errorId) {
  for (const field of form.querySelectorAll("input[required]")) {
    if (!field.value) {
      $(errorId).textContent = t("staff.account.error.fill_in", { field: field.labels[0].textContent });
      $(errorId).hidden = false;
      field.focus();
      return true;
    }
  }
  return false;
}

function showChange(me) {
  $("change-who").textContent = t("staff.account.change.who", { name: me.staff.display_name, username: me.staff.username });
  $("change").hidden = false;
  $("change-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("change-error").hidden = true;
    if (missing($("change-form"), "change-error")) return;
    const body = { current_password: $("current-password").value, new_password: $("new-password").value };
    try {
      await postJson("/api/staff/password", body, { "X-CSRF-Token": me.csrf_token });
      $("change-form").reset();
      say("staff.account.change.done");
    } catch (error) {
      refused("change-error", error, { 403: "staff.account.error.current_wrong", 429: "staff.account.error.too_many" });
    }
  });
}

function showReset() {
  $("reset").hidden = false;
  $("reset-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("reset-error").hidden = true;
    if (missing($("reset-form"), "reset-error")) return;
    const body = Object.fromEntries(new FormData($("reset-form")));
    body.username = String(body.username).trim();
    body.reset_code = String(body.reset_code).trim();
    try {
      await postJson("/api/staff/password/reset", body);
      $("reset-form").reset();
      say("staff.account.reset.done");
    } catch (error) {
      refused("reset-error", error, { 403: "staff.account.error.code_wrong", 429: "staff.account.error.too_many" });
    }
  });
}

async function start() {
  await setLanguage("en");
  let me = null;
  try {
    me = await getJson("/api/staff/me");
  } catch {
    me = null;
  }
  if (me) showChange(me);
  else showReset();
}

start();
