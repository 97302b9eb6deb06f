//! `nova-sandbox`: running repository code (build scripts, proc macros, tests) in isolation.
//!
//! Owns: process isolation for everything Nova runs from a repository. It is the only crate of
//! the workspace that may hold `unsafe` code, each block with a `SAFETY` comment.
//! Never: falls back to running without isolation. When isolation cannot be set up it refuses and
//! says why; only the caller's explicit `--unsafe-no-sandbox` runs code unisolated.
//!
//! [`run`] runs one command in new user, mount, PID and network namespaces with a timeout that
//! kills its whole process tree. [`probe`] says whether this kernel offers what that needs.

mod run;

pub use run::{Isolation, Outcome, RunError, Spec, Status, run};

use std::fmt;
use std::path::Path;

/// A kernel feature the sandbox is built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// New user namespaces, to be root inside without being root outside.
    UserNamespaces,
    /// New network namespaces, to run with no network at all.
    NetworkNamespaces,
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Feature::UserNamespaces => "user namespaces",
            Feature::NetworkNamespaces => "network namespaces",
        })
    }
}

/// Why the sandbox cannot run here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the sandbox cannot run here: {feature} are unavailable ({why}). Enable them, or pass \
     `--unsafe-no-sandbox` to run repository code without isolation"
)]
pub struct Unavailable {
    pub feature: Feature,
    pub why: String,
}

/// Checks that the kernel offers every feature the sandbox needs, reading `/proc` only.
pub fn probe() -> Result<(), Unavailable> {
    probe_at(Path::new("/proc"))
}

/// [`probe`] against another `/proc`, for tests.
pub fn probe_at(proc_root: &Path) -> Result<(), Unavailable> {
    let checks = [
        (
            Feature::UserNamespaces,
            "self/ns/user",
            "sys/user/max_user_namespaces",
        ),
        (
            Feature::NetworkNamespaces,
            "self/ns/net",
            "sys/user/max_net_namespaces",
        ),
    ];
    for (feature, ns, limit) in checks {
        if !proc_root.join(ns).exists() {
            let why = format!("the kernel has no `/proc/{ns}`");
            return Err(Unavailable { feature, why });
        }
        match std::fs::read_to_string(proc_root.join(limit)) {
            Ok(text) if text.trim() == "0" => {
                let why = format!("`/proc/{limit}` is 0");
                return Err(Unavailable { feature, why });
            }
            // A kernel without the limit file does not limit them.
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_proc(user_limit: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "nova-sandbox-probe-{}-{user_limit}",
            std::process::id()
        ));
        std::fs::create_dir_all(dir.join("self/ns")).expect("mkdir");
        std::fs::create_dir_all(dir.join("sys/user")).expect("mkdir");
        std::fs::write(dir.join("self/ns/user"), "").expect("write");
        std::fs::write(dir.join("self/ns/net"), "").expect("write");
        std::fs::write(dir.join("sys/user/max_user_namespaces"), user_limit).expect("write");
        dir
    }

    #[test]
    fn a_zero_limit_is_refused_loudly() {
        let dir = fake_proc("0\n");
        let error = probe_at(&dir).expect_err("no user namespaces");
        assert_eq!(error.feature, Feature::UserNamespaces);
        assert!(error.to_string().contains("--unsafe-no-sandbox"));
        std::fs::remove_dir_all(dir).expect("cleanup");
    }

    #[test]
    fn a_missing_namespace_is_refused() {
        let dir = fake_proc("10\n");
        std::fs::remove_file(dir.join("self/ns/net")).expect("rm");
        let error = probe_at(&dir).expect_err("no network namespaces");
        assert_eq!(error.feature, Feature::NetworkNamespaces);
        std::fs::remove_dir_all(dir).expect("cleanup");
    }

    #[test]
    fn limits_above_zero_pass() {
        let dir = fake_proc("96364\n");
        assert_eq!(probe_at(&dir), Ok(()));
        std::fs::remove_dir_all(dir).expect("cleanup");
    }
}
