//! `nova-sandbox`: running repository code (build scripts, proc macros, tests) in isolation.
//!
//! Owns: process isolation for everything Nova runs from a repository. It is the only crate of
//! the workspace that may hold `unsafe` code, each block with a `SAFETY` comment.
//! Never: falls back to running without isolation. When isolation cannot be set up it refuses and
//! says why; only the caller's explicit `--unsafe-no-sandbox` runs code unisolated.
//!
//! [`run`] runs one command as PID 1 of new user, mount, PID and network namespaces, under
//! resource limits and a Landlock ruleset, with a timeout that kills its whole process tree.
//! [`probe`] says whether this kernel offers what that needs; [`mechanisms`] reports each one for
//! `nova doctor`. `sandbox/README.md` gives the rules.

mod cgroup;
mod child;
mod landlock;
mod policy;
mod run;

pub use policy::Limits;
pub use run::{Isolation, Limit, Outcome, RunError, Spawned, Spec, Status, run, spawn};

use std::fmt;
use std::path::Path;

/// A kernel feature the sandbox is built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// New user namespaces, to be root inside without being root outside.
    UserNamespaces,
    /// New network namespaces, to run with no network at all.
    NetworkNamespaces,
    /// Landlock, to confine the filesystem.
    Landlock,
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Feature::UserNamespaces => "user namespaces",
            Feature::NetworkNamespaces => "network namespaces",
            Feature::Landlock => "Landlock",
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

/// Checks that the kernel offers every feature the sandbox needs.
pub fn probe() -> Result<(), Unavailable> {
    probe_at(Path::new("/proc"))?;
    landlock::abi_version().map_err(|error| Unavailable {
        feature: Feature::Landlock,
        why: landlock_why(&error),
    })?;
    Ok(())
}

fn landlock_why(error: &std::io::Error) -> String {
    match error.raw_os_error() {
        Some(libc::ENOSYS) => String::from("this kernel was built without Landlock"),
        Some(libc::EOPNOTSUPP) => String::from(
            "Landlock is built in but disabled; add `landlock` to the `lsm=` boot parameter",
        ),
        _ => error.to_string(),
    }
}

/// The mechanisms a command run with `isolation` gets on this machine, in one line: for reports,
/// the run archive and the `Nova-Sandbox` trailer.
pub fn describe(isolation: Isolation) -> String {
    match isolation {
        Isolation::None => String::from("none (--unsafe-no-sandbox)"),
        Isolation::Sandbox => {
            let landlock = landlock::abi_version()
                .map(|abi| format!("Landlock ABI {abi}"))
                .unwrap_or_else(|_| String::from("no Landlock"));
            let processes = if run::nested() {
                "processes bounded by the outer sandbox"
            } else if child::ids().0 != 0 {
                "RLIMIT_NPROC"
            } else if cgroup::usable_parent().is_ok() {
                "pids cgroup"
            } else {
                "processes unbounded (root without a pids cgroup)"
            };
            let namespaces = if run::nested() {
                "mount, PID and network namespaces, nested in an outer sandbox"
            } else {
                "user, mount, PID and network namespaces"
            };
            format!(
                "{namespaces}; {landlock}; rlimits (address space, file size, CPU); {processes}"
            )
        }
    }
}

/// One mechanism and whether this machine offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mechanism {
    pub name: &'static str,
    /// `Ok(detail)` when available (the detail says how), `Err(why)` when not.
    pub state: Result<String, String>,
    /// Whether Nova's sandbox needs it (true) or only reports it (false).
    pub required: bool,
}

/// Every mechanism the sandbox uses or could use, as this machine offers them.
pub fn mechanisms() -> Vec<Mechanism> {
    let proc_root = Path::new("/proc");
    let namespace = |feature: Feature, name: &'static str| Mechanism {
        name,
        state: match probe_at(proc_root) {
            Err(error) if error.feature == feature => Err(error.why),
            _ => Ok(String::from("available")),
        },
        required: true,
    };
    let landlock = Mechanism {
        name: "Landlock",
        state: landlock::abi_version()
            .map(|abi| format!("ABI {abi}"))
            .map_err(|error| landlock_why(&error)),
        required: true,
    };
    let tcp_rules = Mechanism {
        name: "Landlock TCP rules",
        state: match landlock::abi_version() {
            Ok(abi) if abi >= landlock::NET_ABI => Ok(String::from(
                "available (a build of Nova under evaluation reaches its model's port only)",
            )),
            Ok(abi) => Err(format!(
                "Landlock ABI {abi} cannot restrict TCP (ABI {} can): `nova bench run --nova` \
                 and `nova evolve --code` refuse to run a build",
                landlock::NET_ABI
            )),
            Err(error) => Err(landlock_why(&error)),
        },
        required: false,
    };
    let seccomp = Mechanism {
        name: "seccomp",
        state: match std::fs::read_to_string(proc_root.join("self/status")) {
            Ok(status) if status.lines().any(|line| line.starts_with("Seccomp:")) => Ok(
                String::from("available (not used: namespaces and Landlock confine the command)"),
            ),
            _ => Err(String::from("this kernel has no seccomp")),
        },
        required: false,
    };
    let processes = Mechanism {
        name: "process limit",
        state: if child::ids().0 != 0 {
            Ok(String::from("RLIMIT_NPROC"))
        } else {
            cgroup::usable_parent()
                .map(|dir| {
                    format!(
                        "a pids cgroup under {} (Linux does not apply RLIMIT_NPROC to root)",
                        dir.display()
                    )
                })
                .map_err(|why| {
                    format!(
                        "running as root, where Linux ignores RLIMIT_NPROC, and {why}: a fork \
                         bomb is stopped only by the timeout"
                    )
                })
        },
        required: false,
    };
    vec![
        namespace(Feature::UserNamespaces, "user namespaces"),
        namespace(Feature::NetworkNamespaces, "network namespaces"),
        landlock,
        tcp_rules,
        processes,
        seccomp,
    ]
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
