//! What this binary is: its version, the commit it was built from, and
//! whether it is statically linked (`packpush --version`, `packpush doctor`).

use std::sync::OnceLock;

/// The version in Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The first 12 hex digits of the commit (build.rs), "-modified" appended
/// when the sources differed from it, or "unknown".
pub const COMMIT: &str = env!("PACKPUSH_COMMIT");

/// The target triple the binary was built for.
pub const TARGET: &str = env!("PACKPUSH_TARGET");

/// Linked statically (`-C target-feature=+crt-static`): no shared library,
/// not even the C library, is loaded at run time.
pub const STATIC: bool = cfg!(target_feature = "crt-static");

/// "static" or "dynamic".
pub fn linkage() -> &'static str {
    if STATIC { "static" } else { "dynamic" }
}

/// What `--version` prints after "packpush ": the version on the first line,
/// then the commit and the build.
pub fn long_version() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let build = if STATIC {
            "static (no shared library)"
        } else {
            "dynamic (uses the system's shared libraries)"
        };
        format!("{VERSION}\ncommit: {COMMIT}\nbuild:  {build}, {TARGET}")
    })
}

/// One line: "packpush 0.1.0 (commit 0123456789ab, static build, x86_64-unknown-linux-gnu)".
pub fn summary() -> String {
    format!(
        "packpush {VERSION} (commit {COMMIT}, {} build, {TARGET})",
        linkage()
    )
}
