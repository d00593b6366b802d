//! The only `unsafe` of the NSS store: softokn takes its configuration (which database, which
//! flags) through `CK_C_INITIALIZE_ARGS.pReserved`, and `cryptoki` can set that pointer only
//! through an `unsafe` constructor. No other crate initialises softokn this way.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};

/// The configuration strings handed to softokn, kept for the life of the process: NSS parses
/// them in `C_Initialize`, and keeping them costs a few bytes and rules out any question of
/// how long NSS looks at them.
static KEPT: Mutex<Vec<CString>> = Mutex::new(Vec::new());

/// softokn's parameter string for a read-only database in `dir` (sql format, no module db).
pub(super) fn config_string(dir: &Path) -> Result<CString, String> {
    let dir = dir
        .to_str()
        .ok_or_else(|| format!("{} is not valid UTF-8", dir.display()))?;
    // NSS's parameter syntax quotes with ' and escapes with \: refuse both rather than escape.
    if dir.contains(['\'', '\\', '\0']) {
        return Err(format!("the database path {dir:?} contains ' or \\"));
    }
    CString::new(format!(
        "configdir='sql:{dir}' certPrefix='' keyPrefix='' secmod='secmod.db' \
         flags=readOnly,noModDB,optimizeSpace"
    ))
    .map_err(|e| e.to_string())
}

/// `C_Initialize` with `config` as the reserved argument.
pub(super) fn initialize(p: &Pkcs11, config: CString) -> Result<(), String> {
    let mut kept = KEPT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    kept.push(config);
    let last = kept.last().ok_or("no configuration")?;
    let ptr = NonNull::new(last.as_ptr().cast_mut().cast::<std::ffi::c_void>())
        .ok_or("null configuration")?;
    // SAFETY: `ptr` points to a NUL-terminated string that lives in `KEPT` until the process
    // ends (a `CString`'s heap buffer does not move when the vector grows), which is the
    // `char *` softokn reads `pReserved` as (NSS's `LibraryParameters`); cryptoki passes it on
    // unchanged and nothing writes through it.
    let args = unsafe { CInitializeArgs::new_with_reserved(CInitializeFlags::OS_LOCKING_OK, ptr) };
    p.initialize(args).map_err(|e| e.to_string())
}
