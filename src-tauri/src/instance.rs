//! One app per data directory: a second launch brings the running one's window to the front
//! and exits. The running app listens on an ephemeral loopback port and writes that port with
//! a random token to `<data_dir>/instance` (readable by this user only); a second launch sends
//! the token there. A web page can reach loopback ports but cannot read the file, so it cannot
//! pop the window up. Written by hand because the Tauri single-instance plugin keys on the app
//! identifier over D-Bus (one instance per user, none without a session bus), while Qoltanba
//! runs one per data directory (tests and admins run several side by side) and on Windows too.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

const FILE: &str = "instance";

fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// What a second launch found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// No other app runs on this data directory.
    Alone,
    /// One does, and it was asked to show its window.
    Focused,
}

/// Asks a running app on `data_dir` to show itself.
pub(crate) fn focus_running(data_dir: &Path) -> Found {
    let Ok(text) = std::fs::read_to_string(path(data_dir)) else {
        return Found::Alone;
    };
    let Some((port, token)) = text.trim().split_once(' ') else {
        return Found::Alone;
    };
    let Ok(port) = port.parse::<u16>() else {
        return Found::Alone;
    };
    let Ok(mut s) =
        TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, port).into(), Duration::from_secs(2))
    else {
        return Found::Alone;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(format!("{token}\n").as_bytes()).is_err() {
        return Found::Alone;
    }
    let mut reply = [0u8; 2];
    match s.read_exact(&mut reply) {
        Ok(()) if &reply == b"ok" => Found::Focused,
        _ => Found::Alone,
    }
}

/// Listens for later launches; `show` runs (on the listener's thread) for each one that
/// presents the token.
pub(crate) fn listen(data_dir: &Path, show: impl Fn() + Send + 'static) -> std::io::Result<()> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let port = listener.local_addr()?.port();
    let mut raw = [0u8; 24];
    getrandom::fill(&mut raw).map_err(|_| std::io::Error::other("no randomness"))?;
    let token = hex::encode(raw);
    write_private(&path(data_dir), format!("{port} {token}\n").as_bytes())?;
    std::thread::Builder::new()
        .name("qoltanba-instance".into())
        .spawn(move || {
            for conn in listener.incoming().flatten() {
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 64];
                let mut got = 0;
                let mut c = conn;
                while got < buf.len() {
                    match c.read(&mut buf[got..]) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got += n,
                    }
                    if buf[..got].contains(&b'\n') {
                        break;
                    }
                }
                let line = std::str::from_utf8(&buf[..got]).unwrap_or_default().trim();
                if line == token {
                    show();
                    let _ = c.write_all(b"ok");
                }
            }
        })?;
    Ok(())
}

/// Forgets the instance file (at exit).
pub(crate) fn remove(data_dir: &Path) {
    let _ = std::fs::remove_file(path(data_dir));
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    o.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_second_launch_focuses_the_first_and_a_wrong_token_does_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(focus_running(dir.path()), Found::Alone);
        let shown = Arc::new(AtomicUsize::new(0));
        let s = shown.clone();
        listen(dir.path(), move || {
            s.fetch_add(1, Ordering::SeqCst);
        })
        .expect("listen");
        assert_eq!(focus_running(dir.path()), Found::Focused);
        assert_eq!(shown.load(Ordering::SeqCst), 1);
        // Someone who can reach the port but not read the file.
        let text = std::fs::read_to_string(dir.path().join(FILE)).expect("file");
        let port: u16 = text
            .split(' ')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port");
        let mut c = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("write");
        let mut out = Vec::new();
        let _ = c.read_to_end(&mut out);
        assert!(out.is_empty());
        assert_eq!(shown.load(Ordering::SeqCst), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(FILE))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "readable by others: {mode:o}");
        }
        // A stale file (the app died) is no reason to stay away.
        remove(dir.path());
        std::fs::write(dir.path().join(FILE), "1 deadbeef\n").expect("write");
        assert_eq!(focus_running(dir.path()), Found::Alone);
    }
}
