//! "Port 13579 is taken — by which program?" (Linux: `/proc/net/tcp*` and `/proc/*/fd`).

/// A description of the process that listens on `port`, when it can be found.
pub fn holder(port: u16) -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        linux::holder(port)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = port;
        None
    }
}

#[cfg(target_os = "linux")]
mod linux {
    pub(super) fn holder(port: u16) -> Option<String> {
        let inode = ["/proc/net/tcp", "/proc/net/tcp6"]
            .iter()
            .find_map(|f| listening_inode(f, port))?;
        let needle = format!("socket:[{inode}]");
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let pid = entry.file_name().to_string_lossy().into_owned();
            if !pid.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
                continue;
            };
            for fd in fds.flatten() {
                if std::fs::read_link(fd.path()).is_ok_and(|l| l.to_string_lossy() == needle) {
                    let comm =
                        std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
                    return Some(format!("{} (pid {pid})", comm.trim()));
                }
            }
        }
        Some(format!("an unknown process (socket inode {inode})"))
    }

    /// The inode of a socket in state LISTEN (0A) on `port`.
    fn listening_inode(file: &str, port: u16) -> Option<String> {
        let text = std::fs::read_to_string(file).ok()?;
        text.lines().skip(1).find_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            let local = cols.get(1)?;
            let p = u16::from_str_radix(local.rsplit(':').next()?, 16).ok()?;
            (p == port && cols.get(3) == Some(&"0A"))
                .then(|| cols.get(9).map(|s| (*s).to_owned()))?
        })
    }
}
