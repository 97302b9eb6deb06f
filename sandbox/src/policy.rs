//! What every sandboxed command may touch besides what its `Spec` grants, and the resource
//! limits it runs under. `sandbox/README.md` explains each choice.

use std::path::PathBuf;

use crate::landlock::Access;

/// System directories holding programs, libraries and headers: readable and executable.
const SYSTEM_TREES: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
];

/// The files of `/etc` that compilers, linkers, the dynamic loader, TLS and name lookup read.
/// Not `/etc` as a whole: it holds host keys, `shadow` and other secrets.
const ETC_ENTRIES: &[&str] = &[
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/resolv.conf",
    "/etc/gai.conf",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/os-release",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
    "/etc/protocols",
    "/etc/services",
    "/etc/mime.types",
    // libgit2 and git fail when the system configuration exists but cannot be read.
    "/etc/gitconfig",
];

/// Device files that are safe to read and write.
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];

/// Kernel views the standard library and allocators read: the CPU and cgroup facts under
/// `/sys`. (The sandbox's own `/proc`, where only its own processes are visible, is granted by
/// the child once it has mounted it.)
const KERNEL_VIEWS: &[&str] = &[
    "/sys/fs/cgroup",
    "/sys/devices/system/cpu",
    "/sys/kernel/mm/transparent_hugepage",
];

/// The rules every sandboxed command starts from.
pub fn system_rules() -> Vec<(PathBuf, Access)> {
    let read = SYSTEM_TREES
        .iter()
        .chain(ETC_ENTRIES)
        .chain(KERNEL_VIEWS)
        .map(|path| (PathBuf::from(path), Access::Read));
    let devices = DEVICES
        .iter()
        .map(|path| (PathBuf::from(path), Access::ReadWriteFile));
    read.chain(devices).collect()
}

/// Resource limits, each applied to every process of the sandbox (`setrlimit`). `None` leaves
/// a limit as Nova's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of virtual memory per process (`RLIMIT_AS`).
    pub address_space: Option<u64>,
    /// Processes and threads (`RLIMIT_NPROC`, counted in the sandbox's own user namespace).
    pub processes: Option<u64>,
    /// Bytes of any one file written (`RLIMIT_FSIZE`).
    pub file_size: Option<u64>,
    /// Seconds of CPU time per process (`RLIMIT_CPU`).
    pub cpu_seconds: Option<u64>,
}

const GIB: u64 = 1 << 30;

impl Default for Limits {
    /// Generous enough for rustc, linkers and test binaries of large crates; tight enough that
    /// a runaway process hits a limit before it takes the machine down.
    fn default() -> Self {
        Limits {
            address_space: Some(16 * GIB),
            processes: Some(4096),
            file_size: Some(8 * GIB),
            cpu_seconds: Some(3600),
        }
    }
}

impl Limits {
    /// The limits as `setrlimit` pairs, with core dumps always off.
    pub(crate) fn rlimits(&self) -> Vec<(libc::__rlimit_resource_t, libc::rlim_t)> {
        let mut pairs = vec![(libc::RLIMIT_CORE, 0)];
        for (resource, value) in [
            (libc::RLIMIT_AS, self.address_space),
            (libc::RLIMIT_NPROC, self.processes),
            (libc::RLIMIT_FSIZE, self.file_size),
            (libc::RLIMIT_CPU, self.cpu_seconds),
        ] {
            if let Some(value) = value {
                pairs.push((resource, value));
            }
        }
        pairs
    }
}
