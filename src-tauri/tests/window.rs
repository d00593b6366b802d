//! The real app window under Xvfb, driven through tauri-driver and WebKitWebDriver (plain
//! WebDriver over HTTP): a page's request opens the window, the test allows the site, opens a
//! key file, types a wrong password (the window shows why and stays), then the right one, and
//! presses «Қол қою»; the signature verifies with openssl. Screenshots go to
//! `target/screenshots/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    clippy::too_many_lines,
    clippy::needless_pass_by_value,
    clippy::duration_suboptimal_units,
    missing_docs
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use qoltanba_testkit::openssl;
use qoltanba_testkit::p12;
use qoltanba_testkit::pki::{LeafSpec, TestPki, Usage};
use serde_json::{Value, json};
use tungstenite::Message;
use tungstenite::client::IntoClientRequest;

/// Kills a child however the test ends.
struct Guard(Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `target/screenshots` (of the target directory in use: `CARGO_TARGET_TMPDIR` is its `tmp`).
fn screenshots() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("screenshots")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn tool(path: &str) -> Option<PathBuf> {
    let p = PathBuf::from(path);
    if p.is_file() {
        return Some(p);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(path))
            .find(|p| p.is_file())
    })
}

/// A tiny WebDriver client (the protocol is JSON over HTTP/1.1).
struct Driver {
    port: u16,
    session: String,
    display: String,
}

fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Value {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let json = out.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    // Chunked or not, the JSON object is the body's braces.
    let start = json.find('{').unwrap_or(0);
    let end = json.rfind('}').map_or(json.len(), |e| e + 1);
    serde_json::from_str(&json[start..end]).unwrap_or(Value::Null)
}

impl Driver {
    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let started = Instant::now();
        let v = http(
            self.port,
            method,
            &format!("/session/{}{path}", self.session),
            body.as_ref(),
        );
        if started.elapsed() > Duration::from_secs(5) {
            eprintln!("slow WebDriver {method} {path}: {:?}", started.elapsed());
        }
        if let (Some(e), true) = (
            v["value"]["error"].as_str(),
            v["value"]["message"].is_string(),
        ) {
            eprintln!("WebDriver {method} {path}: {e} {}", v["value"]["message"]);
        }
        v["value"].clone()
    }
    /// The element now, if the page has it.
    fn try_find(&self, css: &str) -> Option<String> {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        // An error ("no such element") is an object too, with an "error" member.
        v.as_object()
            .filter(|o| !o.contains_key("error"))
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .map(str::to_owned)
    }
    /// The element, waiting for the page to have it.
    fn find(&self, css: &str) -> String {
        let start = Instant::now();
        loop {
            if let Some(id) = self.try_find(css) {
                return id;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no element {css}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    /// One click, no waiting: the window may be gone because an earlier click worked.
    fn click(&self, css: &str) {
        if let Some(e) = self.try_find(css) {
            self.cmd("POST", &format!("/element/{e}/click"), Some(json!({})));
        }
    }
    /// One key press in a field (WebDriver key codes: Enter U+E007, Escape U+E00C).
    fn press(&self, css: &str, key: &str) {
        if let Some(e) = self.try_find(css) {
            self.cmd(
                "POST",
                &format!("/element/{e}/value"),
                Some(json!({"text": key})),
            );
        }
    }
    /// Clicks until `done` holds: under load a click can land while the freshly mapped window
    /// is still being placed, and is lost; a person would click again.
    fn click_until(&self, css: &str, done: impl Fn() -> bool) {
        self.click_every(css, Duration::from_secs(3), Duration::from_secs(30), done);
    }
    /// Clicks a toggle (a button that flips a state) until `on` holds, waiting longer between
    /// clicks than [`Driver::click_until`]: a second click that lands after a slow first one
    /// would flip the state back.
    fn toggle_on(&self, css: &str, on: impl Fn() -> bool) {
        if !on() {
            self.click_every(css, Duration::from_secs(10), Duration::from_secs(40), on);
        }
    }
    /// Clicks, waits up to `every` for `done`, and clicks again, for at most `limit`.
    fn click_every(&self, css: &str, every: Duration, limit: Duration, done: impl Fn() -> bool) {
        let start = Instant::now();
        loop {
            self.click(css);
            let clicked = Instant::now();
            while clicked.elapsed() < every {
                if done() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            if start.elapsed() > limit {
                self.screenshot("failure");
                let page = self.cmd(
                    "POST",
                    "/execute/sync",
                    Some(json!({"script": "return document.body.innerText", "args": []})),
                );
                panic!("clicking {css} had no effect; the page shows: {page}");
            }
        }
    }
    /// Chooses `value` in a list (as the keyboard does: the value set, a `change` event) until
    /// `done` holds. A choice that shows no effect is made again, as a person would, with what
    /// the page showed at that moment on stderr, so that a real fault is seen in the log.
    fn choose(&self, css: &str, value: &str, done: impl Fn() -> bool) {
        let start = Instant::now();
        loop {
            let set = self.cmd(
                "POST",
                "/execute/sync",
                Some(json!({"script": "const s = document.querySelector(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change')); return s.value;", "args": [css, value]})),
            );
            let chosen = Instant::now();
            while chosen.elapsed() < Duration::from_secs(8) {
                if done() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            let state = self.cmd(
                "POST",
                "/execute/sync",
                Some(json!({"script": "const s = document.querySelector(arguments[0]); const f = document.getElementById('failure'); return {lang: document.documentElement.lang, value: s && s.value, failure: f && !f.hidden ? f.textContent : null};", "args": [css]})),
            );
            eprintln!("choosing {value:?} in {css} (set: {set}) had no effect yet: {state}");
            if start.elapsed() > Duration::from_secs(30) {
                self.screenshot("failure");
                panic!("choosing {value:?} in {css} had no effect: {state}");
            }
        }
    }
    fn visible_text(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": "const e = document.querySelector(arguments[0]); return e && e.offsetParent !== null ? e.textContent : '';", "args": [css]})),
        );
        v.as_str().unwrap_or_default().to_owned()
    }
    /// Types into a field, as keystrokes. Xvfb has no window manager: when the X focus is
    /// elsewhere (a native dialog just closed) keystrokes are lost, so the window is given the
    /// focus and the typing repeated, as a person would click into the window first.
    fn type_into(&self, css: &str, text: &str) {
        let start = Instant::now();
        loop {
            let e = self.find(css);
            self.cmd("POST", &format!("/element/{e}/clear"), Some(json!({})));
            self.cmd(
                "POST",
                &format!("/element/{e}/value"),
                Some(json!({"text": text})),
            );
            let typed = self.cmd(
                "POST",
                "/execute/sync",
                Some(json!({"script": "const e = document.querySelector(arguments[0]); return e ? e.value : null;", "args": [css]})),
            );
            if typed == json!(text) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "typing into {css} was lost"
            );
            if let Some(w) = xdotool_window(&self.display, &self.title()) {
                xdotool(&self.display, &["windowfocus", "--sync", &w]);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    fn text(&self, css: &str) -> String {
        let e = self.find(css);
        self.cmd("GET", &format!("/element/{e}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
    fn wait_text(&self, css: &str, want: &str) -> String {
        let start = Instant::now();
        loop {
            let t = self.text(css);
            if t.contains(want) {
                return t;
            }
            if start.elapsed() > Duration::from_secs(20) {
                self.screenshot("failure");
                let page = self.cmd(
                    "POST",
                    "/execute/sync",
                    Some(json!({"script": "return document.body.innerText", "args": []})),
                );
                panic!("{css} never showed {want:?} (has {t:?}); the page shows: {page}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    /// The element's text once it contains every one of `wants`.
    fn wait_all(&self, css: &str, wants: &[&str]) -> String {
        let start = Instant::now();
        loop {
            let t = self.visible_text(css);
            let missing: Vec<_> = wants.iter().filter(|w| !t.contains(**w)).collect();
            if missing.is_empty() {
                return t;
            }
            if start.elapsed() > Duration::from_secs(20) {
                self.screenshot("failure");
                panic!("{css} lacks {missing:?}: {t:?}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    /// Presses a key in a field (WebDriver key codes: Enter U+E007, Escape U+E00C) until
    /// `done` holds.
    fn press_until(&self, css: &str, key: &str, done: impl Fn() -> bool) {
        let start = Instant::now();
        loop {
            self.press(css, key);
            for _ in 0..15 {
                if done() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the key had no effect in {css}"
            );
        }
    }
    /// What the sign window holds now: the password field's text, the chosen key, whether
    /// it waits for the engine, the error shown (`null` once the window is gone).
    fn form(&self) -> Value {
        let v = self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": "const k = document.querySelector('input[name=key]:checked'); const e = document.getElementById('error'); return {secret: document.getElementById('secret').value, key: k ? k.value : null, busy: !document.getElementById('busy').hidden, error: e.hidden ? null : e.textContent};", "args": []})),
        );
        if v.get("secret").is_some() {
            v
        } else {
            Value::Null
        }
    }
    /// Sends the sign form by `send` (Enter in the password field, or a click) and waits for
    /// `done` (`None`) or a refusal (what the form then holds). While the answer is with the
    /// engine the window says so and ignores more presses; the form is sent again only if
    /// the press was lost (the window is not busy and the password is still in the field).
    fn try_submit(&self, send: impl Fn(), done: impl Fn() -> bool) -> Option<Value> {
        let start = Instant::now();
        send();
        let mut idle_since: Option<Instant> = None;
        loop {
            if done() {
                return None;
            }
            let form = self.form();
            if form.is_object() && form["busy"] == false {
                if form["secret"] == "" && form["error"].is_string() {
                    return Some(form);
                }
                let since = *idle_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_secs(2) {
                    send();
                    idle_since = None;
                }
            } else {
                idle_since = None;
            }
            assert!(
                start.elapsed() < Duration::from_secs(40),
                "the form was not answered: {form}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    /// [`Driver::try_submit`], where a refusal fails the test with what the window shows.
    fn submit(&self, send: impl Fn(), done: impl Fn() -> bool) {
        if let Some(form) = self.try_submit(send, done) {
            self.screenshot("failure");
            panic!("the window refused: {form}");
        }
    }
    /// Enter in the password field (see [`Driver::submit`]).
    fn enter(&self, done: impl Fn() -> bool) {
        self.submit(|| self.press("#secret", "\u{E007}"), done);
    }
    /// Visible controls with no accessible name (what a screen reader would read as nothing).
    fn unnamed_controls(&self) -> Vec<String> {
        let v = self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": r"
                const bad = [];
                for (const el of document.querySelectorAll('button, input, select, textarea, [role=tab], a[href]')) {
                  if (el.offsetParent === null) continue;
                  const by = el.getAttribute('aria-labelledby');
                  const name = (el.getAttribute('aria-label') || '').trim()
                    || (el.labels ? [...el.labels].map((l) => l.textContent).join(' ').trim() : '')
                    || (el.tagName === 'BUTTON' || el.getAttribute('role') === 'tab' ? el.textContent.trim() : '')
                    || (by && document.getElementById(by) ? document.getElementById(by).textContent.trim() : '')
                    || (el.getAttribute('title') || '').trim();
                  if (!name) bad.push(el.outerHTML.slice(0, 120));
                }
                return bad;", "args": []})),
        );
        v.as_array().map_or_else(
            || vec![format!("the audit failed: {v}")],
            |a| a.iter().map(ToString::to_string).collect(),
        )
    }
    fn handles(&self) -> Vec<String> {
        self.cmd("GET", "/window/handles", None)
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|h| h.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
    fn title(&self) -> String {
        self.cmd("GET", "/title", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
    /// Switches to the prompt window of a new request (a window not in `known` whose title
    /// names `origin`), waiting for it to appear.
    fn switch_to_new(&self, known: &[String], origin: &str) -> String {
        let start = Instant::now();
        loop {
            for h in self.handles().into_iter().filter(|h| !known.contains(h)) {
                self.cmd("POST", "/window", Some(json!({"handle": h})));
                if self.title().contains(origin) {
                    return h;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no prompt window appeared"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    /// Every window now, once no prompt window is left (the last one may still be closing).
    fn settled_handles(&self) -> Vec<String> {
        let start = Instant::now();
        loop {
            let handles = self.handles();
            let prompt_left = handles.iter().any(|h| {
                self.cmd("POST", "/window", Some(json!({"handle": h})));
                self.title().contains(" — ")
            });
            if !prompt_left {
                return handles;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "a prompt window stayed open"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    fn screenshot(&self, name: &str) {
        // Let the last change be painted.
        std::thread::sleep(Duration::from_millis(400));
        let b64 = self.cmd("GET", "/screenshot", None);
        let png = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            b64.as_str().unwrap_or_default(),
        )
        .unwrap_or_default();
        let dir = screenshots();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

#[test]
fn a_person_signs_in_the_window() {
    let (Some(xvfb), Some(driver), Some(webkit)) = (
        tool("Xvfb"),
        tool("tauri-driver"),
        tool("/usr/bin/WebKitWebDriver"),
    ) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "Xvfb, tauri-driver and WebKitWebDriver are installed by scripts/setup.sh"
        );
        eprintln!("SKIP: Xvfb / tauri-driver / WebKitWebDriver missing");
        return;
    };
    let display = format!(":{}", 90 + std::process::id() % 100);
    let _x = Guard(
        Command::new(xvfb)
            .args([
                display.as_str(),
                "-screen",
                "0",
                "1280x900x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(500));
    let home = tempfile::tempdir().unwrap();
    let hsm = qoltanba_testkit::softhsm::SoftHsm::new();
    let wd_port = free_port();
    let _driver = Guard(
        Command::new(driver)
            .args([
                "--port",
                &wd_port.to_string(),
                "--native-port",
                &free_port().to_string(),
            ])
            .arg("--native-driver")
            .arg(webkit)
            .env("DISPLAY", &display)
            // The app's HOME: autostart writes ~/.config/autostart there, not in the real one.
            .env("HOME", home.path())
            // The app finds SoftHSM among the known token libraries; its tokens live here.
            .env("SOFTHSM2_CONF", &hsm.conf)
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_HOME")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(800));

    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::new();
    let leaf = pki.issue(&LeafSpec::individual(Usage::Sign));
    let key = p12::write_nca_file(&leaf, "Qwerty12", dir.path());
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pki.ca_bundle_pem()).unwrap();
    // A key in the OS store: an NSS database with a password (certutil, pk12util).
    let nss = qoltanba_testkit::nss::NssDb::new(Some("NssPass-7"));
    let os_leaf = pki.issue(&LeafSpec::individual(Usage::Sign));
    nss.import(&os_leaf);
    let os_thumb = qoltanba_testkit::nss::openssl_thumbprint(&os_leaf.cert_pem());
    let token_leaf = pki.issue(&LeafSpec::individual(Usage::Sign));
    hsm.init_token("KazToken test", "123456");
    hsm.import("KazToken test", "123456", &token_leaf, "0a01");
    let port = free_port();
    let session = http(
        wd_port,
        "POST",
        "/session",
        Some(&json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {
                "application": env!("CARGO_BIN_EXE_qoltanba-desktop"),
                "args": ["--listen", format!("127.0.0.1:{port}"), "--tls", "off",
                         "--data-dir", dir.path().join("data"), "--trust-anchor", &ca,
                         "--nss-db", &nss.path],
            }
        }}})),
    );
    let id = session["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no WebDriver session: {session}"))
        .to_owned();
    let d = Driver {
        port: wd_port,
        session: id,
        display: display.clone(),
    };
    // The signing API is up.
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(30), "never listened");
        std::thread::sleep(Duration::from_millis(100));
    }
    let known = d.handles();

    let url = format!("ws://127.0.0.1:{port}");
    let ask = move |frames: Vec<String>| {
        let url = url.clone();
        std::thread::spawn(move || {
            let mut req = url.into_client_request().unwrap();
            req.headers_mut()
                .insert("Origin", "https://portal.example".parse().unwrap());
            let (mut ws, _) = tungstenite::connect(req).unwrap();
            ws.read().unwrap();
            let mut last = Value::Null;
            for f in frames {
                ws.send(Message::text(f)).unwrap();
                last = serde_json::from_str(ws.read().unwrap().to_text().unwrap()).unwrap();
            }
            last
        })
    };
    let cades = r#"{"module":"kz.gov.pki.knca.commonUtils","method":"createCAdESFromBase64","args":["PKCS12","SIGNATURE","MTEK",true]}"#;

    // 1. Kazakh (the default): allow the site, open the key file, a wrong password first.
    eprintln!("step 1");
    let client = ask(vec![cades.to_owned()]);
    d.switch_to_new(&known, "portal.example");
    d.wait_text("#origin-site", "https://portal.example");
    d.screenshot("origin-kk");
    d.click_until("#allow-always", || {
        d.visible_text("#site").contains("portal.example")
    });
    // The key file through the system's file chooser (GTK's, driven with xdotool): type the
    // path, Enter. It starts in the home folder and remembers the folder for next time.
    d.click_until("#browse", || {
        xdotool_window(&display, "Кілт файлын таңдау").is_some()
    });
    let chooser = xdotool_window(&display, "Кілт файлын таңдау").unwrap();
    // A typed "/" opens the location field; the path and Enter pick the file. Under load GTK
    // may miss keystrokes: the person selects what is in the field and types it again.
    let picked = || {
        d.cmd(
            "POST",
            "/execute/sync",
            Some(
                json!({"script": "return document.getElementById('file-path').value", "args": []}),
            ),
        ) == json!(key.to_str().unwrap())
    };
    let start = Instant::now();
    let mut again = false;
    'typing: loop {
        if xdotool_window(&display, "Кілт файлын таңдау").is_some() {
            xdotool(&display, &["windowfocus", "--sync", &chooser]);
            if again {
                xdotool(&display, &["key", "ctrl+a"]);
            }
            again = true;
            xdotool(&display, &["type", "--delay", "30", key.to_str().unwrap()]);
            std::thread::sleep(Duration::from_millis(300));
            xdotool(&display, &["key", "Return"]);
        }
        for _ in 0..30 {
            if picked() {
                break 'typing;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        if start.elapsed() > Duration::from_secs(40) {
            let shot = screenshots().join("chooser-failure.png");
            let _ = Command::new("import")
                .args(["-window", "root"])
                .arg(&shot)
                .env("DISPLAY", &display)
                .status();
            panic!("the chooser gave no path (the screen: {})", shot.display());
        }
    }
    let settings = std::fs::read_to_string(dir.path().join("data/settings.toml")).unwrap();
    assert!(
        settings.contains(&format!(
            "last_folder = {:?}",
            key.parent().unwrap().display().to_string()
        )),
        "the chooser's folder was not remembered: {settings}"
    );
    // Xvfb has no window manager to give the focus back once the chooser closes.
    if let Some(w) = xdotool_window(&display, "Qoltanba — https://portal.example") {
        xdotool(&display, &["windowfocus", "--sync", &w]);
    }
    d.type_into("#secret", "wrong-one");
    let refused = d
        .try_submit(|| d.click("#sign"), || false)
        .expect("a refusal");
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.contains("Құпиясөз қате")),
        "{refused}"
    );
    let error = d.wait_text("#error", "Құпиясөз қате");
    eprintln!("wrong password shows: {error}");
    // The window stays, and so does the reason, until the person tries again.
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        d.text("#error").contains("Құпиясөз қате"),
        "the error went away"
    );
    d.screenshot("sign-wrong-password-kk");
    d.type_into("#secret", "Qwerty12");
    d.submit(|| d.click("#sign"), || client.is_finished());
    let reply = client.join().unwrap();
    assert_eq!(reply["code"], "200", "{reply}");
    let der =
        qoltanba_sign::input::decode_binary(reply["responseObject"].as_str().unwrap().as_bytes())
            .unwrap();
    let sig = dir.path().join("s.p7s");
    std::fs::write(&sig, der).unwrap();
    let v = openssl::cms_verify(&sig, None, &ca);
    assert!(v.ok, "{}", v.output);

    // 2. Russian (the request's locale): the remembered key is a card with its holder.
    eprintln!("step 2");
    let basics = json!({"module":"kz.gov.pki.knca.basics","method":"sign","args":{"format":"cms","data":"MTEK",
        "signingParams":{"decode":true,"encapsulate":true},"signerParams":{"extKeyUsageOids":["1.3.6.1.5.5.7.3.4"]},
        "locale":"ru","logo": logo_png()}}).to_string();
    let known = d.settled_handles();
    let client = ask(vec![basics]);
    d.switch_to_new(&known, "portal.example");
    let offers = d.wait_text("#offers", "ТЕСТОВ ТЕСТ ТЕСТОВИЧ");
    assert!(
        offers.contains("123456789011") && offers.contains("Срок действия"),
        "{offers}"
    );
    d.wait_text("#sign", "Подписать");
    // The site's logo is an image the webview decoded.
    let start = Instant::now();
    loop {
        let logo = d.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": "const l = document.getElementById('logo'); return l && !l.hidden && l.complete ? l.naturalWidth : 0;", "args": []})),
        );
        if logo == json!(48) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the logo was not shown: {logo}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    d.type_into("#secret", "Qwerty12");
    d.screenshot("sign-ru");
    // Certificate details: every field, copyable; then make it the default certificate.
    d.toggle_on(".details-toggle", || {
        d.visible_text(".details").contains("SHA-256")
    });
    // The engine's answer on revocation: the test certificate names no responder and no CRL.
    d.wait_all(".details", &["проверять нечего"]);
    let details = d.visible_text(".details");
    for want in [
        "ФИО",
        "ИИН",
        "123456789011",
        "Серийный номер",
        "Действует по",
        "Цепочка доверия",
        "доверенная (НУЦ)",
        "Отзыв сертификата",
    ] {
        assert!(details.contains(want), "details lack {want}: {details}");
    }
    d.screenshot("details-ru");
    let unnamed = d.unnamed_controls();
    assert!(unnamed.is_empty(), "controls without a name: {unnamed:?}");
    d.toggle_on(".default-toggle", || {
        d.visible_text(".default-toggle")
            .contains("Выбран по умолчанию")
    });
    // From the keyboard: Enter in the password field signs.
    d.enter(|| client.is_finished());
    let reply = client.join().unwrap();
    assert_eq!(reply["status"], true, "{reply}");
    let pem = reply["body"]["result"][0].as_str().unwrap();
    let der = qoltanba_sign::input::decode_binary(pem.as_bytes()).unwrap();
    std::fs::write(&sig, der).unwrap();
    let v = openssl::cms_verify(&sig, None, &ca);
    assert!(v.ok, "{}", v.output);

    // 3. English (changeLocale on this connection), an AUTH key wanted: the SIGN key is shown
    eprintln!("step 3");
    // disabled with its reason; Cancel gives the protocol's cancel reply.
    let auth = r#"{"module":"kz.gov.pki.knca.commonUtils","method":"createCAdESFromBase64","args":["PKCS12","AUTHENTICATION","MTEK",true]}"#;
    let known = d.settled_handles();
    let client = ask(vec![
        r#"{"module":"kz.gov.pki.knca.commonUtils","method":"changeLocale","args":["en"]}"#
            .to_owned(),
        auth.to_owned(),
    ]);
    d.switch_to_new(&known, "portal.example");
    let offers = d.wait_text("#offers", "ТЕСТОВ ТЕСТ ТЕСТОВИЧ");
    assert!(offers.contains("different kind of key"), "{offers}");
    assert!(offers.contains("Default certificate"), "{offers}");
    d.wait_text("#cancel", "Cancel");
    d.screenshot("sign-en-disabled-key");
    d.click_until("#cancel", || client.is_finished());
    let reply = client.join().unwrap();
    assert_eq!(
        reply,
        json!({"code": "500", "message": "action.canceled"}),
        "{reply}"
    );

    // 4. Tokens come and go while a window is open: the list follows.
    eprintln!("step 4");
    // (SoftHSM sees tokens made before it was loaded and notices deletions; a token made by
    // another process later shows only after the module is loaded again, so this test pulls
    // the token out rather than plugging one in.)
    let known = d.settled_handles();
    let any = json!({"module":"kz.gov.pki.knca.basics","method":"sign","args":{"format":"xml",
        "data":"<application><applicant><iin>123456789011</iin></applicant><amount currency=\"KZT\">1500</amount></application>",
        "signingParams":{},"signerParams":{},"locale":"en"}}).to_string();
    let client = ask(vec![any]);
    d.switch_to_new(&known, "portal.example");
    d.wait_text("#offers", "KazToken test");
    // The XML form as readable fields.
    let preview = d.wait_all("#documents", &["iin: 123456789011", "amount: 1500"]);
    assert!(
        preview.contains("iin: 123456789011") && preview.contains("amount: 1500"),
        "{preview}"
    );
    d.screenshot("sign-en-token");
    hsm.delete_token("KazToken test");
    let start = Instant::now();
    while {
        let t = d.visible_text("#offers");
        t.is_empty() || t.contains("KazToken test")
    } {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "a pulled-out token stayed listed"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // Escape is Cancel (basics answers a cancel as NCALayer does: success, empty body).
    d.press_until("#secret", "\u{E00C}", || client.is_finished());
    let reply = client.join().unwrap();
    assert_eq!(reply, json!({"status": true, "body": {}}), "{reply}");

    // 4b. A key in the OS store: offered for PKCS12 as a "System store" card; the database
    // password is asked in the window and NSS signs.
    eprintln!("step 4b");
    let known = d.settled_handles();
    let os = json!({"module":"kz.gov.pki.knca.basics","method":"sign","args":{"allowedStorages":["PKCS12"],
        "format":"cms","data":"MTEK","signingParams":{"decode":true,"encapsulate":true},
        "signerParams":{"extKeyUsageOids":["1.3.6.1.5.5.7.3.4"]},"locale":"en"}}).to_string();
    let client = ask(vec![os]);
    d.switch_to_new(&known, "portal.example");
    d.wait_text("#offers", "System store: NSS");
    let card = format!("label:has(> input[value='os:NSS:{os_thumb}'])");
    let checked = format!("input[value='os:NSS:{os_thumb}']:checked");
    d.click_until(&card, || d.try_find(&checked).is_some());
    d.wait_text("#secret-label", "Password");
    d.type_into("#secret", "NssPass-7");
    d.screenshot("sign-en-os-store");
    d.enter(|| client.is_finished());
    let reply = client.join().unwrap();
    assert_eq!(reply["status"], true, "{reply}");
    let pem = reply["body"]["result"][0].as_str().unwrap();
    let der = qoltanba_sign::input::decode_binary(pem.as_bytes()).unwrap();
    assert!(
        der.windows(os_leaf.cert_der.len())
            .any(|w| w == os_leaf.cert_der)
    );
    std::fs::write(&sig, der).unwrap();
    let v = openssl::cms_verify(&sig, None, &ca);
    assert!(v.ok, "{}", v.output);

    // 5. The page goes away while its window is open: the window closes.
    eprintln!("step 5");
    let known = d.settled_handles();
    let leaving = {
        let url = format!("ws://127.0.0.1:{port}");
        std::thread::spawn(move || {
            let mut req = url.into_client_request().unwrap();
            req.headers_mut()
                .insert("Origin", "https://portal.example".parse().unwrap());
            let (mut ws, _) = tungstenite::connect(req).unwrap();
            ws.read().unwrap();
            ws.send(Message::text(cades)).unwrap();
            std::thread::sleep(Duration::from_millis(1500));
        })
    };
    let handle = d.switch_to_new(&known, "portal.example");
    d.find("#site");
    leaving.join().unwrap();
    let start = Instant::now();
    while d.handles().contains(&handle) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the window stayed after its page left"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // 6. A new site refused: remembered, and not asked again.
    eprintln!("step 6");
    let known = d.settled_handles();
    let evil = {
        let url = format!("ws://127.0.0.1:{port}");
        std::thread::spawn(move || {
            let mut req = url.into_client_request().unwrap();
            req.headers_mut()
                .insert("Origin", "https://evil.example".parse().unwrap());
            let (mut ws, _) = tungstenite::connect(req).unwrap();
            ws.read().unwrap();
            let mut replies = Vec::new();
            for _ in 0..2 {
                ws.send(Message::text(cades)).unwrap();
                replies.push(ws.read().unwrap().to_text().unwrap().to_owned());
            }
            replies
        })
    };
    d.switch_to_new(&known, "evil.example");
    d.wait_text("#origin-site", "https://evil.example");
    d.click_until("#deny", || evil.is_finished());
    let replies = evil.join().unwrap();
    assert_eq!(
        replies.len(),
        2,
        "the second call was not answered: {replies:?}"
    );

    // 7. The main window (the person's language, Kazakh by default): sites, history, settings.
    eprintln!("step 7");
    let start = Instant::now();
    let main = loop {
        let titles: Vec<(String, String)> = d
            .settled_handles()
            .into_iter()
            .map(|h| {
                d.cmd("POST", "/window", Some(json!({"handle": h})));
                let t = d.title();
                (h, t)
            })
            .collect();
        if let Some((h, _)) = titles.iter().find(|(_, t)| t == "Qoltanba") {
            break h.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no main window among {titles:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    d.cmd("POST", "/window", Some(json!({"handle": main})));
    d.click_until("#tab-sites", || {
        d.visible_text("#allowed")
            .contains("https://portal.example")
    });
    d.wait_all("#refused", &["https://evil.example"]);
    d.screenshot("sites-kk");
    let unnamed = d.unnamed_controls();
    assert!(unnamed.is_empty(), "controls without a name: {unnamed:?}");
    d.click_until("#tab-history", || {
        d.visible_text("#history-rows").contains("қол қойылды")
    });
    let history = d.wait_all(
        "#history-rows",
        &[
            "https://portal.example",
            "ТЕСТОВ ТЕСТ ТЕСТОВИЧ",
            "123456789011",
            "бас тартылды",
            "сайтқа тыйым салынды",
            "basics.sign",
        ],
    );
    assert!(
        !history.contains("MTEK"),
        "document content in the history: {history}"
    );
    d.screenshot("history-kk");
    // Forget the refused site; it is asked again next time.
    d.click_until("#tab-sites", || d.visible_text("#refused").contains("evil"));
    d.click_until("#refused button", || {
        let t = d.visible_text("#refused");
        t.contains("Жоқ") && !t.contains("evil")
    });
    // Settings: the language follows at once; autostart writes the login entry.
    d.click_until("#tab-settings", || {
        d.visible_text("#data-dirs").contains("data")
    });
    d.choose("#language", "ru", || {
        d.visible_text("#tab-settings").contains("Настройки")
    });
    let autostart = home.path().join(".config/autostart/Qoltanba.desktop");
    d.click_until("#autostart", || autostart.is_file());
    let entry = std::fs::read_to_string(&autostart).unwrap();
    assert!(entry.contains("--minimized"), "{entry}");
    d.screenshot("settings-ru");
    let unnamed = d.unnamed_controls();
    assert!(unnamed.is_empty(), "controls without a name: {unnamed:?}");
    d.click_until("#autostart", || !autostart.is_file());
    // A page may open the settings (accessory showSettings) once it is allowed.
    d.click_until("#tab-about", || {
        d.visible_text("#about-modules").contains("basics")
    });
    d.screenshot("about-ru");
    let show = ask(vec![
        r#"{"module":"kz.gov.pki.ncalayerservices.accessory","method":"showSettings"}"#.to_owned(),
    ]);
    show.join().unwrap();
    d.wait_all("#tab-settings[aria-selected=true]", &["Настройки"]);
    d.wait_all("#panel-settings", &["Путь к библиотеке"]);
    // A command that fails says why in the person's language, with its detail.
    d.type_into("#module-path", "/nonexistent/libtoken.so");
    d.click_until("#module-add", || {
        let t = d.visible_text("#module-result");
        t.contains("нет такого файла") && t.contains("/nonexistent/libtoken.so")
    });
    d.cmd(
        "POST",
        "/execute/sync",
        Some(json!({"script": "document.getElementById('module-result').scrollIntoView({block: 'center'});", "args": []})),
    );
    d.screenshot("settings-command-failed-ru");
    // Clearing the history leaves nothing.
    d.click_until("#tab-history", || {
        d.visible_text("#history-clear").contains("Очистить")
    });
    d.click_until("#history-clear", || {
        d.visible_text("#history-empty").contains("пуста")
    });
    assert!(!dir.path().join("data/history.jsonl").exists());

    // 8. A second launch on the same data directory shows this one's window and exits.
    eprintln!("step 8");
    let mut second = Command::new(env!("CARGO_BIN_EXE_qoltanba-desktop"))
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--tls",
            "off",
            "--data-dir",
        ])
        .arg(dir.path().join("data"))
        .env("DISPLAY", &display)
        .env("HOME", home.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(st) = second.try_wait().unwrap() {
            break st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the second launch kept running"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut err = String::new();
    second
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        status.success() && err.contains("already running"),
        "{status}: {err}"
    );
    d.wait_text("#tab-status[aria-selected=true]", "Состояние");
}

fn xdotool(display: &str, args: &[&str]) -> String {
    let out = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .output()
        .expect("xdotool (apt xdotool, installed by scripts/setup.sh)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The X window whose title contains `title`.
fn xdotool_window(display: &str, title: &str) -> Option<String> {
    xdotool(display, &["search", "--onlyvisible", "--name", title])
        .lines()
        .next()
        .map(str::to_owned)
}

/// A 48×24 PNG, as a portal's logo.
fn logo_png() -> String {
    let mut out = Vec::new();
    {
        let mut e = png::Encoder::new(&mut out, 48, 24);
        e.set_color(png::ColorType::Rgb);
        let mut w = e.write_header().unwrap();
        let pixels: Vec<u8> = (0..48 * 24u32)
            .flat_map(|i| [0, 175, i.to_le_bytes()[0]])
            .collect();
        w.write_image_data(&pixels).unwrap();
    }
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, out)
}
