// The main window: what the engine is doing. Closing it leaves the app in the tray.
"use strict";
const tauri = window.__TAURI__;
let strings = {};
const t = (k, vars) => {
  let s = strings[k] ?? k;
  for (const [n, v] of Object.entries(vars ?? {})) s = s.replace(`{${n}}`, String(v));
  return s;
};
async function refresh() {
  const st = await tauri.core.invoke("app_status");
  const lang = ["kk", "ru", "en"].includes(st.locale) ? st.locale : "kk";
  document.documentElement.lang = lang;
  strings = await (await fetch(`i18n/${lang}.json`)).json();
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  document.getElementById("state").textContent = st.listening
    ? t("status.listening", { url: st.listening })
    : t("status.error", { error: st.error || "…" });
}
document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("hide").addEventListener("click", () => tauri.core.invoke("hide_main"));
  await refresh();
  setInterval(refresh, 2000);
});
