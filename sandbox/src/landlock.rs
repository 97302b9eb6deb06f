//! Landlock: the kernel's unprivileged filesystem access control, through its three system calls.
//!
//! A ruleset is built in the parent (where allocating and opening files is safe) and only
//! enforced in the child between `fork` and `exec` ([`Ruleset::fd`] goes to
//! `landlock_restrict_self` there). Everything the kernel version knows how to restrict is
//! restricted; what the rules grant is all the command may do with the filesystem.
#![expect(
    unsafe_code,
    reason = "Landlock has no libc wrappers: its system calls are made directly"
)]

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

// From <linux/landlock.h>.
const CREATE_RULESET_VERSION: u32 = 1 << 0;
const RULE_PATH_BENEATH: libc::c_int = 1;
/// ABI 4: a rule on a TCP port.
const RULE_NET_PORT: libc::c_int = 2;

const EXECUTE: u64 = 1 << 0;
const WRITE_FILE: u64 = 1 << 1;
const READ_FILE: u64 = 1 << 2;
const READ_DIR: u64 = 1 << 3;
const REMOVE_DIR: u64 = 1 << 4;
const REMOVE_FILE: u64 = 1 << 5;
const MAKE_CHAR: u64 = 1 << 6;
const MAKE_DIR: u64 = 1 << 7;
const MAKE_REG: u64 = 1 << 8;
const MAKE_SOCK: u64 = 1 << 9;
const MAKE_FIFO: u64 = 1 << 10;
const MAKE_BLOCK: u64 = 1 << 11;
const MAKE_SYM: u64 = 1 << 12;
/// ABI 2: links and renames across directories.
const REFER: u64 = 1 << 13;
/// ABI 3.
const TRUNCATE: u64 = 1 << 14;
/// ABI 5: ioctl on device files.
const IOCTL_DEV: u64 = 1 << 15;

/// ABI 4: connecting a TCP socket to a port.
const CONNECT_TCP: u64 = 1 << 1;

/// ABI 6: no connecting to abstract unix sockets made outside the sandbox.
const SCOPE_ABSTRACT_UNIX_SOCKET: u64 = 1 << 0;
/// ABI 6: no signals to processes outside the sandbox.
const SCOPE_SIGNAL: u64 = 1 << 1;

/// Rights that only make sense on directories.
const DIR_ONLY: u64 = READ_DIR
    | REMOVE_DIR
    | REMOVE_FILE
    | MAKE_CHAR
    | MAKE_DIR
    | MAKE_REG
    | MAKE_SOCK
    | MAKE_FIFO
    | MAKE_BLOCK
    | MAKE_SYM
    | REFER;

#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

#[repr(C)]
struct NetPortAttr {
    allowed_access: u64,
    port: u64,
}

/// What a rule lets the command do beneath a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read files, list directories, run programs.
    Read,
    /// Everything: create, write, remove, rename, run.
    Write,
    /// Read and write existing files, create nothing (for device files such as `/dev/null`).
    ReadWriteFile,
}

/// The Landlock ABI version this kernel offers, or why there is none.
pub fn abi_version() -> Result<u32, io::Error> {
    // SAFETY: with a null attribute, size 0 and the VERSION flag, the call reads no memory and
    // only returns the ABI version or an error.
    let version = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<RulesetAttr>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    if version < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(u32::try_from(version).unwrap_or(0))
}

/// Every filesystem right the given ABI version can restrict.
fn handled_fs(abi: u32) -> u64 {
    let mut all = EXECUTE | WRITE_FILE | READ_FILE | (DIR_ONLY & !REFER);
    if abi >= 2 {
        all |= REFER;
    }
    if abi >= 3 {
        all |= TRUNCATE;
    }
    if abi >= 5 {
        all |= IOCTL_DEV;
    }
    all
}

/// The Landlock ABI that restricts TCP connections.
pub const NET_ABI: u32 = 4;

/// A ruleset ready to be enforced.
#[derive(Debug)]
pub struct Ruleset {
    fd: OwnedFd,
    handled: u64,
}

impl Ruleset {
    /// A ruleset that denies every filesystem access the kernel can restrict, and (ABI 6) scopes
    /// abstract unix sockets and signals to the sandbox. With `tcp_connect`, it denies connecting
    /// TCP sockets too, but to the ports [`Ruleset::allow_port`] grants: `Unsupported` below
    /// [`NET_ABI`], where that cannot be restricted.
    pub fn new(tcp_connect: bool) -> Result<Self, io::Error> {
        let abi = abi_version()?;
        if tcp_connect && abi < NET_ABI {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "restricting TCP connections needs Landlock ABI {NET_ABI}; this kernel has \
                     ABI {abi}"
                ),
            ));
        }
        let handled = handled_fs(abi);
        let attr = RulesetAttr {
            handled_access_fs: handled,
            handled_access_net: if tcp_connect { CONNECT_TCP } else { 0 },
            scoped: if abi >= 6 {
                SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
            } else {
                0
            },
        };
        // The kernel reads only the fields its ABI knows; older ones reject a larger size.
        let size = match abi {
            0..=3 => 8usize,
            4 | 5 => 16,
            _ => size_of::<RulesetAttr>(),
        };
        // SAFETY: `attr` is a live, properly laid out `landlock_ruleset_attr` of at least `size`
        // bytes; the kernel only reads it.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                &raw const attr,
                size,
                0u32,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = RawFd::try_from(fd).map_err(|_| io::Error::other("bad ruleset fd"))?;
        // SAFETY: the kernel just returned this descriptor to us and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Ruleset { fd, handled })
    }

    /// Grants `access` beneath `path` (or to `path` itself when it is a file). A path that does
    /// not exist is skipped: there is nothing there to grant.
    pub fn allow(&mut self, path: &Path, access: Access) -> Result<(), io::Error> {
        let c_path = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::other("a path with a NUL byte"))?;
        let mut rights = self.rights(access);
        if !path.is_dir() {
            rights &= !DIR_ONLY;
        }
        // SAFETY: `c_path` is NUL-terminated and the ruleset descriptor is open.
        match unsafe { add_rule(self.fd.as_raw_fd(), &c_path, rights) } {
            Err(error) if matches!(error.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {
                Ok(())
            }
            result => result,
        }
    }

    /// Lets the command connect TCP sockets to `port` (on any address). Only for a ruleset made
    /// with `tcp_connect`.
    pub fn allow_port(&mut self, port: u16) -> Result<(), io::Error> {
        let rule = NetPortAttr {
            allowed_access: CONNECT_TCP,
            port: u64::from(port),
        };
        // SAFETY: `rule` is a live `landlock_net_port_attr`; the ruleset descriptor is open; the
        // kernel only reads `rule`.
        let status = unsafe {
            libc::syscall(
                libc::SYS_landlock_add_rule,
                self.fd.as_raw_fd(),
                RULE_NET_PORT,
                &raw const rule,
                0u32,
            )
        };
        if status < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// The rights `access` stands for, of those this kernel restricts.
    pub fn rights(&self, access: Access) -> u64 {
        let rights = match access {
            Access::Read => EXECUTE | READ_FILE | READ_DIR,
            Access::Write => u64::MAX,
            Access::ReadWriteFile => READ_FILE | WRITE_FILE | TRUNCATE | IOCTL_DEV,
        };
        rights & self.handled
    }

    /// The descriptor to hand to `landlock_restrict_self` in the child.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Adds a rule granting `rights` beneath `path` to the ruleset `ruleset`. Async-signal-safe: only
/// system calls, so the child may add rules for what it mounts itself.
///
/// # Safety
/// `ruleset` must be an open Landlock ruleset descriptor.
pub unsafe fn add_rule(ruleset: RawFd, path: &CStr, rights: u64) -> Result<(), io::Error> {
    // SAFETY: `path` is NUL-terminated; O_PATH opens nothing for reading.
    let target = unsafe { libc::open(path.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    if target < 0 {
        return Err(io::Error::last_os_error());
    }
    let rule = PathBeneathAttr {
        allowed_access: rights,
        parent_fd: target,
    };
    // SAFETY: `rule` is a live `landlock_path_beneath_attr`; both descriptors are open for the
    // whole call; the kernel only reads `rule`. `target` is closed once, here.
    unsafe {
        let status = libc::syscall(
            libc::SYS_landlock_add_rule,
            ruleset,
            RULE_PATH_BENEATH,
            &raw const rule,
            0u32,
        );
        let error = io::Error::last_os_error();
        libc::close(target);
        if status < 0 { Err(error) } else { Ok(()) }
    }
}

/// Enforces the ruleset on the calling thread. Async-signal-safe: two system calls.
///
/// # Safety
/// Only call between `fork` and `exec`, with `fd` a ruleset descriptor that is still open.
pub unsafe fn restrict_self(fd: RawFd) -> Result<(), io::Error> {
    // SAFETY: prctl with PR_SET_NO_NEW_PRIVS takes no pointers.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the call takes a descriptor and flags, no pointers.
    if unsafe { libc::syscall(libc::SYS_landlock_restrict_self, fd, 0u32) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
