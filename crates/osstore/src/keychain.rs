//! macOS Keychain (written next).
