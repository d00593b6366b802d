# Sourced by the scripts in scripts/: where cargo builds, and the one host build that the lint,
# the tests, the fuzz seeds and the package tests share. Not a command of its own.

# Cargo's target directory: ./target unless CARGO_TARGET_DIR says otherwise (.ci/run keeps one
# outside the clone, so that a fresh clone starts with its dependencies built).
T="${CARGO_TARGET_DIR:-$PWD/target}"
WIN=x86_64-pc-windows-gnu
MAC=x86_64-apple-darwin

# Runs a cargo command with clippy as the compiler of the workspace's own crates (what
# `cargo clippy` does, but for a real build): every lint of `cargo clippy -- -D warnings` is
# checked while the crates compile, so the dependencies are compiled once for the lint and the
# tests together instead of once in check mode and again for the tests. Dependencies are
# compiled by rustc as usual. Never used for what ships (clippy turns MIR optimisations off).
with_clippy() {
  RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver)" \
  CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" "$@"
}

# The host build of every target of the workspace (all features, with the test-only
# unattended prompter; tests, benches, examples, bins), linted as it compiles. Fresh when
# nothing changed, so the later steps call it to have $T/debug/{qoltanba,mkpki,…}.
host_build() {
  with_clippy cargo test --workspace --all-features --all-targets --locked --no-run -q
}

# cargo test with the same build as host_build (nothing is compiled again).
host_test() {
  with_clippy cargo test --workspace --all-features --locked "$@"
}
