// The reports page: a supervisor or admin picks an ended month and sees its figures, drawn
// by the server as SVG (no chart script), with small numbers already hidden; admins edit
// the "you said, we did" list shown on the visitor page.

import { HttpError, getJson, postJson } from "../shared/http.js";
import { setLanguage, t } from "../shared/i18n.js";

const $ = (id) => document.getElementById(id);
const state = { csrf: null, admin: false };

function say(key, params) {
  $("status").textContent = t(key, params);
  $("status").hidden = false;
}

function figureText(figure) {
  return typeof figure === "number" ? String(figure) : t(`staff.reports.${figure}`);
}

function breakdownBlock(month, measure, dimension, cells, labels) {
  const block = document.createElement("div");
  const chart = document.createElement("img");
  const params = `lang=${encodeURIComponent(document.documentElement.lang)}`;
  chart.src = `/api/reports/${month}/charts/${measure}/${dimension}.svg?${params}`;
  chart.alt = "";
  // The same figures as a table, for screen readers and for copying.
  const table = document.createElement("table");
  table.className = "visually-hidden";
  const caption = table.createCaption();
  caption.textContent = `${t(`staff.reports.measure.${measure}`)}: ${t(`staff.reports.dimension.${dimension}`)}`;
  for (const [value, figure] of Object.entries(cells)) {
    const row = table.insertRow();
    // The catalogue's word, else the service's label (escalation outcome codes), else the value.
    const label = t(`staff.reports.value.${value}`);
    row.insertCell().textContent = label === `staff.reports.value.${value}` ? (labels?.[value] ?? value) : label;
    row.insertCell().textContent = figureText(figure);
  }
  block.append(chart, table);
  return block;
}

function render(report) {
  const figures = $("figures");
  figures.replaceChildren();
  for (const measure of report.measures) {
    const section = document.createElement("section");
    const heading = document.createElement("h3");
    heading.textContent = `${t(`staff.reports.measure.${measure.measure}`)} — ${t("staff.reports.total")}: ${figureText(measure.total)}`;
    section.append(heading);
    for (const [dimension, cells] of Object.entries(measure.breakdowns)) {
      section.append(breakdownBlock(report.month, measure.measure, dimension, cells, report.labels));
    }
    figures.append(section);
  }
}

async function show(month) {
  $("export").href = `/api/reports/${month}/export.csv?lang=${encodeURIComponent(document.documentElement.lang)}`;
  try {
    render(await getJson(`/api/reports/${month}`));
  } catch {
    say("staff.reports.failed");
  }
}

async function loadMonths() {
  const { months } = await getJson("/api/reports/months");
  const select = $("month");
  select.replaceChildren(...months.map((month) => new Option(month, month)));
  $("report").hidden = false;
  if (!months.length) {
    say("staff.reports.none");
    $("month-form").hidden = true;
    return;
  }
  await show(months[0]);
}

async function loadYouSaid() {
  const entries = await getJson("/api/you-said-we-did");
  const list = $("yousaid-list");
  list.replaceChildren(
    ...entries.map((entry) => {
      const item = document.createElement("li");
      item.lang = entry.language;
      item.textContent = `${t("staff.reports.yousaid.you_said")}: ${entry.you_said} — ${t("staff.reports.yousaid.we_did")}: ${entry.we_did}`;
      if (state.admin) {
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "secondary";
        remove.textContent = t("staff.reports.yousaid.remove");
        remove.addEventListener("click", () => removeEntry(entry.id));
        item.append(" ", remove);
      }
      return item;
    }),
  );
  $("yousaid").hidden = false;
  $("yousaid-form").hidden = !state.admin;
  $("yousaid-admin-only").hidden = state.admin;
}

async function removeEntry(id) {
  await fetch(`/api/admin/you-said-we-did/${id}`, {
    method: "DELETE",
    headers: { "X-CSRF-Token": state.csrf },
    credentials: "same-origin",
  });
  await loadYouSaid();
}

async function addEntry(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    await postJson("/api/admin/you-said-we-did", Object.fromEntries(form), { "X-CSRF-Token": state.csrf });
    event.target.reset();
    $("yousaid-error").hidden = true;
    await loadYouSaid();
  } catch (error) {
    const reason = error instanceof HttpError && typeof error.detail === "string" ? error.detail : String(error.status ?? "");
    $("yousaid-error").textContent = t("staff.reports.yousaid.failed", { reason });
    $("yousaid-error").hidden = false;
  }
}

async function start() {
  await setLanguage("en");
  let me;
  try {
    me = await getJson("/api/staff/me");
  } catch {
    say("staff.reports.login_needed");
    return;
  }
  if (!["supervisor", "admin"].includes(me.staff.role)) {
    say("staff.reports.login_needed");
    return;
  }
  state.csrf = me.csrf_token;
  state.admin = me.staff.role === "admin";
  $("month-form").addEventListener("submit", (event) => {
    event.preventDefault();
    show($("month").value);
  });
  $("yousaid-form").addEventListener("submit", addEntry);
  await Promise.all([loadMonths(), loadYouSaid()]);
}

start();
