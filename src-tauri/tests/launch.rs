//! Starting the desktop app: without a display it says at once that it needs a desktop session
//! (and that `qoltanba serve` serves without one); with the port taken it keeps running in the
//! tray and names the process holding the port.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const APP: &str = env!("CARGO_BIN_EXE_qoltanba-desktop");

#[test]
fn without_a_display_it_explains_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(APP)
        .args(["--tls", "off", "--data-dir"])
        .arg(dir.path())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("needs a desktop session") && err.contains("qoltanba serve"),
        "{err}"
    );
}

fn xvfb() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("Xvfb"))
            .find(|p| p.is_file())
    })
}

#[test]
fn a_taken_port_names_its_holder_and_the_app_stays() {
    let Some(xvfb) = xvfb() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "Xvfb is installed by scripts/setup.sh"
        );
        eprintln!("SKIP: no Xvfb");
        return;
    };
    let display = format!(":{}", 200 + std::process::id() % 100);
    let mut x = Command::new(xvfb)
        .args([
            display.as_str(),
            "-screen",
            "0",
            "800x600x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let mut app = Command::new(APP)
        .args([
            "--minimized",
            "--tls",
            "off",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.path())
        .env("DISPLAY", &display)
        .env("HOME", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = app.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let mut buf = [0u8; 512];
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) && !text.contains("already in use") {
            match stderr.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => text.push_str(&String::from_utf8_lossy(&buf[..n])),
            }
        }
        text
    });
    let text = reader.join().unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let still_running = app.try_wait().unwrap().is_none();
    let _ = app.kill();
    let _ = app.wait();
    let _ = x.kill();
    let _ = x.wait();
    drop(taken);
    assert!(
        text.contains(&format!("port {port} is already in use by")),
        "{text}"
    );
    // The holder is this test's process.
    assert!(text.contains("launch"), "the holder was not named: {text}");
    assert!(
        still_running,
        "the app quit instead of staying in the tray: {text}"
    );
}
