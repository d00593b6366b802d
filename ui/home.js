// The main window: status and recent activity, site permissions, history, settings, about.
// Everything shown (site names, certificate names) is put in as text, never as HTML;
// $, t, text and loadStrings come from common.js.
"use strict";
const tauri = window.__TAURI__;
const invoke = (cmd, args) => tauri.core.invoke(cmd, args);
const TABS = ["status", "sites", "history", "settings", "about"];
function button(label, onClick, name) {
  const b = text("button", label, "small secondary");
  b.type = "button";
  if (name) b.setAttribute("aria-label", name);
  b.addEventListener("click", onClick);
  return b;
}

// Local time, in the interface's language.
function when(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const tag = { kk: "kk-KZ", ru: "ru-RU", en: "en-GB" }[locale] ?? "kk-KZ";
  return d.toLocaleString(tag, { dateStyle: "short", timeStyle: "medium" });
}

function sizes(list) {
  return list.length ? `${list.length} × ${list.map((n) => t("size.bytes", { n })).join(", ")}` : "";
}

async function showStatus() {
  const st = await invoke("app_status");
  await loadStrings(st.locale);
  $("state").textContent = st.listening
    ? t("status.listening", { url: st.listening })
    : t("status.error", { error: st.error || "…" });
  $("recent-empty").hidden = st.recent.length > 0;
  $("recent").replaceChildren(...st.recent.map((e) => {
    const who = e.certificate ? ` · ${e.certificate.name}` : "";
    return text("li", `${when(e.time)} · ${e.origin} · ${t("result." + e.result)}${who}`, "meta");
  }));
}

function siteItem(origin, action) {
  const li = document.createElement("li");
  li.append(text("span", origin));
  if (action) li.append(action);
  return li;
}

async function showSites() {
  const s = await invoke("sites");
  const forget = (o) => button(t("sites.revoke"), async () => { await invoke("site_revoke", { origin: o }); showSites(); },
    `${t("sites.revoke")}: ${o}`);
  const none = () => text("li", t("sites.none"), "note");
  $("allowed").replaceChildren(...(s.allowed.length ? s.allowed.map((o) => siteItem(o, forget(o))) : [none()]));
  $("refused").replaceChildren(...(s.refused.length ? s.refused.map((o) => siteItem(o, forget(o))) : [none()]));
  const admin = [
    ...s.admin_allow.map((o) => siteItem(o, text("span", t("sites.admin_allowed"), "badge"))),
    ...s.admin_deny.map((o) => siteItem(o, text("span", t("sites.admin_refused"), "badge"))),
  ];
  $("admin").replaceChildren(...(admin.length ? admin : [none()]));
}

// One entry: when, the site and the result on the first line; what and with which
// certificate on the second.
function historyItem(e) {
  const li = document.createElement("li");
  const what = [e.method, e.format ? t("format." + e.format) : "", sizes(e.sizes ?? [])].filter(Boolean).join(" · ");
  const c = e.certificate;
  const cert = c ? [c.name, c.iin ? `${t("cert.iin")} ${c.iin}` : "", c.bin ? `${t("cert.bin")} ${c.bin}` : "",
    `${t("field.serial")} ${c.serial}`].filter(Boolean).join(" · ") : "";
  const head = document.createElement("div");
  head.append(text("span", when(e.time), "when"), " ", text("span", e.origin, "name"), " ",
    text("span", t("result." + e.result), e.result === "signed" ? "badge" : "badge failed"));
  li.append(head, text("div", what, "meta"));
  if (cert) li.append(text("div", cert, "meta"));
  return li;
}

async function showHistory() {
  const list = await invoke("history");
  $("history-empty").hidden = list.length > 0;
  $("history-clear").disabled = list.length === 0;
  $("history-rows").replaceChildren(...list.map(historyItem));
}

// Each showing of the settings has a number: one that started earlier (a tab click just before
// the language changed) and answers later does not put the old settings back.
let settingsShown = 0;

async function showSettings() {
  const mine = ++settingsShown;
  const s = await invoke("settings");
  if (mine !== settingsShown) return;
  await loadStrings(s.language);
  if (mine !== settingsShown) return;
  $("language").value = s.language;
  $("autostart").checked = !!s.autostart;
  $("autostart").disabled = s.autostart === null;
  $("default-key").textContent = s.default_key ?? t("settings.default_none");
  $("default-clear").hidden = !s.default_key;
  $("trust").replaceChildren(...(s.tls
    ? (s.trust.length ? s.trust.map(([db, ok]) => siteItem(db, text("span", t(ok ? "settings.trust_ok" : "settings.trust_missing"), "badge")))
      : [text("li", t("settings.trust_none"), "note")])
    : [text("li", t("settings.no_tls"), "note")]));
  $("trust-install").disabled = !s.tls;
  // The modules in use, then the ones the person added that start with the next launch.
  const pending = s.user_modules.filter((m) => !s.modules.some((x) => x.module === m.module))
    .map((m) => ({ ...m, pending: true }));
  const mods = [...s.modules, ...pending].map((m) => {
    const state = [t("settings.source." + m.source), m.present ? "" : t("settings.token_missing"),
      m.pending ? t("settings.tokens_restart") : ""].filter(Boolean).join(" · ");
    const li = siteItem(`${m.storage}: ${m.module}`, text("span", state, "badge"));
    if (s.user_modules.some((u) => u.module === m.module)) {
      li.append(button(t("settings.token_remove"), async () => { await invoke("module_remove", { module: m.module }); showSettings(); },
        `${t("settings.token_remove")}: ${m.module}`));
    }
    return li;
  });
  $("modules").replaceChildren(...(mods.length ? mods : [text("li", t("settings.tokens_none"), "note")]));
  const dl = $("data-dirs");
  dl.replaceChildren();
  for (const [k, v] of [["settings.data_dir", s.data_dir], ["settings.config_dir", s.config_dir],
    ["settings.settings_file", s.settings_file], ["settings.policy_file", s.policy_file ?? t("settings.no_policy")]]) {
    dl.append(text("dt", t(k)), text("dd", v));
  }
  $("about-version").textContent = t("about.version", { version: s.version });
}

const SHOW = { status: showStatus, sites: showSites, history: showHistory, settings: showSettings, about: showSettings };

async function select(tab, focus) {
  if (!TABS.includes(tab)) tab = "status";
  for (const name of TABS) {
    const on = name === tab;
    const b = $(`tab-${name}`);
    b.setAttribute("aria-selected", String(on));
    b.tabIndex = on ? 0 : -1;
    $(`panel-${name}`).hidden = !on;
  }
  if (focus) $(`tab-${tab}`).focus();
  document.body.dataset.tab = tab;
  await SHOW[tab]();
}

function showFailure(e) {
  const p = $("failure");
  p.hidden = false;
  p.textContent = `Qoltanba: ${e && e.message ? e.message : String(e)}`;
}
window.addEventListener("error", (e) => showFailure(e.error ?? e.message));
window.addEventListener("unhandledrejection", (e) => showFailure(e.reason));

document.addEventListener("DOMContentLoaded", async () => {
  const st = await invoke("app_status");
  await loadStrings(st.locale);
  for (const name of TABS) $(`tab-${name}`).addEventListener("click", () => select(name, true));
  // Tabs: arrow keys move between them (WAI-ARIA tabs pattern), Home/End jump.
  $("tabs").addEventListener("keydown", (e) => {
    const i = TABS.indexOf(document.body.dataset.tab);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    select(TABS[(next + TABS.length) % TABS.length], true);
  });
  $("hide").addEventListener("click", () => invoke("hide_main"));
  $("default-clear").addEventListener("click", async () => { await invoke("set_default_key", { id: null, label: null }); showSettings(); });
  $("history-clear").addEventListener("click", async () => { await invoke("history_clear"); showHistory(); });
  $("language").addEventListener("change", async (e) => {
    // The choice as made; a showing of the settings already under way (it read the old
    // language) is dropped rather than put the old value back.
    const language = e.target.value;
    settingsShown += 1;
    await invoke("set_language", { language });
    await loadStrings(language);
    await select(document.body.dataset.tab);
  });
  $("autostart").addEventListener("change", async (e) => {
    try { e.target.checked = await invoke("set_autostart", { enabled: e.target.checked }); }
    catch (err) { e.target.checked = !e.target.checked; $("module-result").textContent = errorText(err); }
  });
  $("trust-install").addEventListener("click", async () => {
    const out = $("trust-result");
    try { out.textContent = (await invoke("trust_install")).join("; ") || t("settings.trust_done"); }
    catch (err) { out.textContent = errorText(err); }
    showSettings();
  });
  $("module-add").addEventListener("click", async () => {
    const out = $("module-result");
    try {
      await invoke("module_add", { storage: $("module-storage").value, module: $("module-path").value });
      out.textContent = t("settings.tokens_restart");
      $("module-path").value = "";
    } catch (err) { out.textContent = errorText(err); }
    showSettings();
  });
  await tauri.event.listen("show-tab", (e) => select(e.payload, true));
  await tauri.event.listen("language-changed", async () => { locale = null; await select(document.body.dataset.tab); });
  await select(location.hash.slice(1) || "status", true);
  setInterval(() => { if (document.body.dataset.tab === "status") showStatus(); }, 2000);
});
