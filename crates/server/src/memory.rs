//! Giving memory back after large requests. glibc keeps what a thread freed in that thread's
//! arena, and every request runs on a thread of tokio's blocking pool, so after a burst of
//! 1 MiB documents the server stayed at several times its idle size although nothing used the
//! memory. When the last large request in flight has finished (and its reply has had a moment
//! to be written and freed), `malloc_trim(0)` returns the free pages of every arena to the
//! system. Elsewhere (Windows, macOS, musl) the allocators return large blocks themselves and
//! this does nothing.
//!
//! The threads also share fewer arenas ([`init`]: one per core instead of eight), so less is
//! kept in the first place.
//!
//! `malloc_trim` and `mallopt` have no safe wrapper in any maintained crate, so these are the
//! only `unsafe` blocks outside the OS stores.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Requests at least this large count as large.
pub(crate) const LARGE: usize = 256 << 10;

/// Large requests in flight.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Held while a request is handled; for a large one, the last to finish gives the memory back.
pub(crate) struct Request {
    large: bool,
}

impl Request {
    pub(crate) fn new(len: usize) -> Self {
        let large = len >= LARGE;
        if large {
            IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        }
        Self { large }
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        if !self.large || IN_FLIGHT.fetch_sub(1, Ordering::SeqCst) != 1 {
            return;
        }
        // Outside a runtime (never, in the server) there is nothing to wait for.
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            release();
            return;
        };
        rt.spawn(async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if IN_FLIGHT.load(Ordering::SeqCst) == 0 {
                let _ = tokio::task::spawn_blocking(release).await;
            }
        });
    }
}

/// Limits glibc to one arena per core (its default is eight per core): every request runs on a
/// thread of the blocking pool, and each thread's arena kept its share of the peak. Called
/// when the engine is built, before the server's threads start.
pub(crate) fn init() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let arenas = libc::c_int::try_from(cores).unwrap_or(8);
        #[allow(unsafe_code)]
        // SAFETY: mallopt takes two integers and changes a glibc setting under its lock; it is
        // safe to call at any time from any thread.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}

/// Returns free memory to the system where the allocator keeps it.
pub(crate) fn release() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: malloc_trim takes no pointers and only walks glibc's own arenas, each under its
    // lock; it is safe to call at any time from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}
