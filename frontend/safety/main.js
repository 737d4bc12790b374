// "Staying safe online": a short page of advice, in her language, with the same quick exit.

import { applyBrand } from "../shared/brand.js";
import { language, loadPage, preferredLanguage } from "../shared/i18n.js";
import { setExitUrl } from "../shared/quick-exit.js";

const select = document.getElementById("language");

async function show(lang) {
  const config = await loadPage(lang).catch(() => null);
  setExitUrl(config?.exit_url);
  applyBrand(config?.brand);
  select.value = language();
}

select.addEventListener("change", () => show(select.value));
show(preferredLanguage());
