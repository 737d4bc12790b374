// Risk levels and categories as staff read them: always a word, never colour alone.

import { t } from "../shared/i18n.js";

export const LEVEL_RANK = { none: 0, low: 1, medium: 1, high: 2, imminent: 3 };

const LEVEL_NAMES = {
  none: "staff.risk.none",
  low: "staff.risk.low",
  medium: "staff.risk.medium",
  high: "staff.risk.high",
  imminent: "staff.risk.imminent",
};

const CATEGORY_NAMES = {
  suicide_self_harm: "staff.category.suicide_self_harm",
  domestic_abuse_danger: "staff.category.domestic_abuse_danger",
  child_safeguarding: "staff.category.child_safeguarding",
  overdose_medical: "staff.category.overdose_medical",
  sexual_violence: "staff.category.sexual_violence",
  forced_marriage_honour: "staff.category.forced_marriage_honour",
};

export const RISK_CATEGORIES = Object.keys(CATEGORY_NAMES);

export function levelName(level) {
  return LEVEL_NAMES[level] ? t(LEVEL_NAMES[level]) : String(level ?? t("staff.unknown"));
}

export function categoryName(category) {
  return CATEGORY_NAMES[category] ? t(CATEGORY_NAMES[category]) : String(category);
}

export function higher(a, b) {
  return (LEVEL_RANK[b] ?? 0) > (LEVEL_RANK[a] ?? 0) ? b : a;
}

// A small coloured label that always says the level in words.
export function levelBadge(level, text = levelName(level)) {
  const badge = document.createElement("span");
  const known = level in LEVEL_RANK ? level : "none";
  badge.className = `level-badge level-${known}`;
  badge.textContent = text;
  return badge;
}

export function quoted(phrases) {
  return [...new Set(phrases)].map((phrase) => `“${phrase}”`).join(" · ");
}
