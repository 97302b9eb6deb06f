//! What the child does between `fork` and `exec`: enter the namespaces, become PID 1 of a new PID
//! namespace, mount its own `/proc`, bring up its own loopback, set resource limits and enforce
//! the Landlock ruleset.
//!
//! This code runs in a forked copy of a possibly multi-threaded process, so it only makes system
//! calls on data prepared before the fork: no allocation, no locks. It reports back through a
//! pipe of fixed-size records ([`Record`]): a setup step that failed with its errno, or the wait
//! status of the command, since the process Nova waits for is the supervisor (see [`enter`]), not
//! the command itself.
#![expect(
    unsafe_code,
    reason = "entering namespaces and limits between fork and exec needs raw system calls"
)]

use std::ffi::CStr;
use std::io;
use std::os::fd::RawFd;

/// A setup step, as reported when it fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum SetupStep {
    DeathSignal = 1,
    Cgroup,
    Unshare,
    Setgroups,
    UidMap,
    GidMap,
    Fork,
    MountPrivate,
    MountProc,
    Loopback,
    Limits,
    Landlock,
}

impl SetupStep {
    pub fn from_code(code: u8) -> Option<Self> {
        use SetupStep::*;
        [
            DeathSignal,
            Cgroup,
            Unshare,
            Setgroups,
            UidMap,
            GidMap,
            Fork,
            MountPrivate,
            MountProc,
            Loopback,
            Limits,
            Landlock,
        ]
        .into_iter()
        .find(|step| *step as u8 == code)
    }

    /// Whether an outer sandbox's Landlock domain explains this step's failure: it forbids
    /// writing `/proc` and mounting, which only a sandbox inside a sandbox runs into.
    pub fn denied_when_nested(self, errno: i32) -> bool {
        matches!(
            self,
            SetupStep::Setgroups
                | SetupStep::UidMap
                | SetupStep::GidMap
                | SetupStep::MountPrivate
                | SetupStep::MountProc
        ) && matches!(errno, libc::EACCES | libc::EPERM)
    }

    pub fn describe(self) -> &'static str {
        match self {
            SetupStep::DeathSignal => "tie the sandbox's life to Nova's (prctl PDEATHSIG)",
            SetupStep::Cgroup => "join the sandbox's pids cgroup",
            SetupStep::Unshare => "create user, mount, PID and network namespaces (unshare)",
            SetupStep::Setgroups => "write /proc/self/setgroups in the new user namespace",
            SetupStep::UidMap => "map the user id into the new user namespace",
            SetupStep::GidMap => "map the group id into the new user namespace",
            SetupStep::Fork => "start PID 1 of the new PID namespace (fork)",
            SetupStep::MountPrivate => "make the mount namespace private",
            SetupStep::MountProc => "mount /proc for the new PID namespace",
            SetupStep::Loopback => "bring up the loopback of the new network namespace",
            SetupStep::Limits => "set the resource limits (setrlimit)",
            SetupStep::Landlock => "enforce the Landlock filesystem rules",
        }
    }
}

/// One record on the report pipe: a kind byte and two little-endian `i32`s.
pub const RECORD_LEN: usize = 9;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// A step failed with this errno; the command never ran.
    SetupFailed { step: u8, errno: i32 },
    /// The command ended with this raw wait status.
    Ended { wait_status: i32 },
}

impl Record {
    fn encode(self) -> [u8; RECORD_LEN] {
        let (kind, a, b) = match self {
            Record::SetupFailed { step, errno } => (1u8, i32::from(step), errno),
            Record::Ended { wait_status } => (2u8, wait_status, 0),
        };
        let mut bytes = [0u8; RECORD_LEN];
        bytes[0] = kind;
        bytes[1..5].copy_from_slice(&a.to_le_bytes());
        bytes[5..9].copy_from_slice(&b.to_le_bytes());
        bytes
    }

    /// Every whole record in `bytes`, in order.
    pub fn decode_all(bytes: &[u8]) -> Vec<Record> {
        bytes
            .chunks_exact(RECORD_LEN)
            .filter_map(|chunk| {
                let a = i32::from_le_bytes([chunk[1], chunk[2], chunk[3], chunk[4]]);
                let b = i32::from_le_bytes([chunk[5], chunk[6], chunk[7], chunk[8]]);
                match chunk[0] {
                    1 => Some(Record::SetupFailed {
                        step: u8::try_from(a).ok()?,
                        errno: b,
                    }),
                    2 => Some(Record::Ended { wait_status: a }),
                    _ => None,
                }
            })
            .collect()
    }
}

/// Everything the child needs, computed before the fork.
#[derive(Debug)]
pub struct Plan {
    /// `0 <uid> 1`: root inside is the caller outside.
    pub uid_map: Vec<u8>,
    pub gid_map: Vec<u8>,
    /// Whether the command keeps the host's network (only for fetching dependencies).
    pub network: bool,
    /// Inside an outer sandbox, whose Landlock domain forbids writing `/proc` and mounting: no
    /// user namespace of our own (we already are root in the outer one) and the outer `/proc`.
    pub nested: bool,
    /// `setrlimit` calls as (resource, soft, hard).
    pub limits: Vec<(libc::__rlimit_resource_t, libc::rlim_t, libc::rlim_t)>,
    pub landlock: Option<RawFd>,
    /// What the command may do under the sandbox's own `/proc`.
    pub proc_rights: u64,
    pub report: RawFd,
    /// `cgroup.procs` of the pids cgroup to join first, if any.
    pub cgroup_procs: Option<std::ffi::CString>,
    /// Nova's PID: if the child's parent is no longer Nova, Nova died before the child could tie
    /// itself to it.
    pub parent: libc::pid_t,
}

/// The caller's user and group ids.
pub fn ids() -> (u32, u32) {
    // SAFETY: getuid and getgid take no arguments and cannot fail.
    unsafe { (libc::getuid(), libc::getgid()) }
}

/// Lowers each limit to the caller's hard limit, which an unprivileged process cannot raise, and
/// gives each its soft and hard values. The CPU limit's hard value is a second above its soft one,
/// so that a process gets `SIGXCPU` (which says why) before the kernel's `SIGKILL`.
pub fn within_hard_limits(
    limits: Vec<(libc::__rlimit_resource_t, libc::rlim_t)>,
) -> Vec<(libc::__rlimit_resource_t, libc::rlim_t, libc::rlim_t)> {
    limits
        .into_iter()
        .map(|(resource, value)| {
            let mut current = libc::rlimit {
                rlim_cur: 0,
                rlim_max: libc::RLIM_INFINITY,
            };
            // SAFETY: `current` is a live local the call writes into.
            let known = unsafe { libc::getrlimit(resource, &raw mut current) } == 0;
            let ceiling = if known {
                current.rlim_max
            } else {
                libc::RLIM_INFINITY
            };
            let soft = value.min(ceiling);
            let hard = if resource == libc::RLIMIT_CPU {
                soft.saturating_add(1).min(ceiling)
            } else {
                soft
            };
            (resource, soft, hard)
        })
        .collect()
}

/// Kills the process group `pid` leads (a command run without a sandbox, in a group of its own).
pub fn kill_group(pid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill takes a process group id and a signal, no pointers; a group that is gone
        // is an error the caller has no use for.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// Waits until `pid` (a child of ours, not yet reaped) exits or `timeout` passes, without reaping
/// it: `Ok(true)` when it exited. Uses a pidfd, so that the wake-up is immediate; where the kernel
/// has none (before Linux 5.3), polls every millisecond.
pub fn wait_exit(pid: u32, timeout: std::time::Duration) -> io::Result<bool> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::other("a pid out of range"))?;
    // SAFETY: pidfd_open takes a pid and flags, no pointers.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let Ok(fd) = RawFd::try_from(fd) else {
        return Err(io::Error::other("a pidfd out of range"));
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor and nothing else owns it.
    let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let mut poll = libc::pollfd {
        fd: std::os::fd::AsRawFd::as_raw_fd(&fd),
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    loop {
        // SAFETY: `poll` is one live `pollfd`.
        let ready = unsafe { libc::poll(&raw mut poll, 1, millis) };
        if ready >= 0 {
            return Ok(ready > 0);
        }
        if errno() != libc::EINTR {
            return Err(io::Error::last_os_error());
        }
    }
}

/// Makes `command` enter the sandbox described by `plan` between its fork and its exec.
pub fn install(command: &mut std::process::Command, plan: Plan) {
    use std::os::unix::process::CommandExt;
    // SAFETY: `enter` only makes system calls on data `plan` prepared before the fork: it
    // allocates nothing and takes no locks, as code between fork and exec must.
    unsafe {
        command.pre_exec(move || enter(&plan));
    }
}

fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn report(fd: RawFd, record: Record) {
    let bytes = record.encode();
    // SAFETY: writes a live stack buffer of RECORD_LEN bytes; a short or failed write only loses
    // the report, which the parent treats as "no report".
    unsafe { libc::write(fd, bytes.as_ptr().cast(), RECORD_LEN) };
}

/// Reports `step` as failed and gives the error `pre_exec` returns, which makes `spawn` fail.
fn failed(plan: &Plan, step: SetupStep) -> io::Error {
    let errno = errno();
    report(
        plan.report,
        Record::SetupFailed {
            step: step as u8,
            errno,
        },
    );
    io::Error::from_raw_os_error(errno)
}

fn write_file(path: &CStr, contents: &[u8]) -> bool {
    // SAFETY: `path` is NUL-terminated; the descriptor is closed before returning.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return false;
        }
        let written = libc::write(fd, contents.as_ptr().cast(), contents.len());
        libc::close(fd);
        usize::try_from(written) == Ok(contents.len())
    }
}

/// Runs in the forked child. Enters the namespaces, then forks PID 1 of the new PID namespace,
/// which forks the command: only the command returns from here (to exec). The child stays behind
/// as the supervisor, PID 1 as the namespace's init; neither ever returns.
///
/// # Safety
/// Only call between `fork` and `exec` (from `CommandExt::pre_exec`).
pub unsafe fn enter(plan: &Plan) -> io::Result<()> {
    // SAFETY: prctl and getppid take no pointers.
    unsafe {
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
            return Err(failed(plan, SetupStep::DeathSignal));
        }
        if libc::getppid() != plan.parent {
            libc::_exit(1);
        }
    }
    if let Some(procs) = &plan.cgroup_procs
        && !write_file(procs, b"0")
    {
        return Err(failed(plan, SetupStep::Cgroup));
    }
    let mut flags = libc::CLONE_NEWNS | libc::CLONE_NEWPID;
    if !plan.nested {
        flags |= libc::CLONE_NEWUSER;
    }
    if !plan.network {
        flags |= libc::CLONE_NEWNET;
    }
    // SAFETY: unshare takes flags only; this process is single-threaded after the fork.
    if unsafe { libc::unshare(flags) } != 0 {
        return Err(failed(plan, SetupStep::Unshare));
    }
    if !plan.nested {
        if !write_file(c"/proc/self/setgroups", b"deny") {
            return Err(failed(plan, SetupStep::Setgroups));
        }
        if !write_file(c"/proc/self/uid_map", &plan.uid_map) {
            return Err(failed(plan, SetupStep::UidMap));
        }
        if !write_file(c"/proc/self/gid_map", &plan.gid_map) {
            return Err(failed(plan, SetupStep::GidMap));
        }
    }
    // SAFETY: fork in a single-threaded process; both sides only make system calls afterwards.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(failed(plan, SetupStep::Fork));
    }
    if pid > 0 {
        // SAFETY: supervise only makes system calls and never returns.
        unsafe { supervise(plan, pid) }
    }
    // SAFETY: still between fork and exec, now as PID 1 of the new namespace.
    unsafe { become_init(plan) }
}

/// Closes every descriptor but the report pipe, so that Nova's `spawn` learns of the exec from
/// the command alone and the output pipes close when the command's processes end.
///
/// # Safety
/// Only call between `fork` and `exec`.
unsafe fn close_all_but_report(plan: &Plan) {
    let keep = u32::try_from(plan.report).unwrap_or(u32::MAX);
    // SAFETY: close_range takes no pointers.
    unsafe {
        if keep > 0 {
            libc::close_range(0, keep - 1, 0);
        }
        libc::close_range(keep.saturating_add(1), u32::MAX, 0);
    }
}

/// The supervisor, outside the PID namespace: waits for PID 1 (which reports the command's status)
/// and exits. Nova kills it on timeout, and PID 1 dies with it.
unsafe fn supervise(plan: &Plan, init: libc::pid_t) -> ! {
    // SAFETY: waitpid's out-parameter is a live local; the rest take no pointers.
    unsafe {
        close_all_but_report(plan);
        let mut status: libc::c_int = 0;
        while libc::waitpid(init, &raw mut status, 0) != init && errno() == libc::EINTR {}
        libc::_exit(0)
    }
}

/// PID 1 of the sandbox. It dies with its supervisor, gets its own `/proc` and loopback, then the
/// limits and the Landlock ruleset (which also forbids any further mount), and forks the command.
/// It stays behind as the namespace's init: it reaps orphans, and when the command ends it reports
/// the command's status and exits, which kills whatever the command left running. (The command
/// itself is not PID 1, because the kernel spares PID 1 every signal it has no handler for,
/// `SIGXCPU` and `SIGTERM` included.)
unsafe fn become_init(plan: &Plan) -> io::Result<()> {
    // SAFETY: every call below takes either no pointers or pointers to NUL-terminated literals
    // and live locals.
    unsafe {
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
            return Err(failed(plan, SetupStep::DeathSignal));
        }
        let none = std::ptr::null::<libc::c_char>();
        let private = libc::MS_REC | libc::MS_PRIVATE;
        if !plan.nested && libc::mount(none, c"/".as_ptr(), none, private, std::ptr::null()) != 0 {
            return Err(failed(plan, SetupStep::MountPrivate));
        }
        let proc_flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
        let proc = c"proc".as_ptr();
        if !plan.nested
            && libc::mount(proc, c"/proc".as_ptr(), proc, proc_flags, std::ptr::null()) != 0
        {
            return Err(failed(plan, SetupStep::MountProc));
        }
        if !plan.network && !loopback_up() {
            return Err(failed(plan, SetupStep::Loopback));
        }
        for &(resource, soft, hard) in &plan.limits {
            let limit = libc::rlimit {
                rlim_cur: soft,
                rlim_max: hard,
            };
            if libc::setrlimit(resource, &raw const limit) != 0 {
                return Err(failed(plan, SetupStep::Limits));
            }
        }
        if let Some(fd) = plan.landlock {
            if crate::landlock::add_rule(fd, c"/proc", plan.proc_rights).is_err()
                || crate::landlock::restrict_self(fd).is_err()
            {
                return Err(failed(plan, SetupStep::Landlock));
            }
            libc::close(fd);
        }
        let command = libc::fork();
        if command < 0 {
            return Err(failed(plan, SetupStep::Fork));
        }
        if command > 0 {
            reap(plan, command);
        }
    }
    Ok(())
}

/// Init's loop: reaps every child until the command ends, then reports its status and exits.
unsafe fn reap(plan: &Plan, command: libc::pid_t) -> ! {
    // SAFETY: waitpid's out-parameter is a live local; the rest take no pointers.
    unsafe {
        close_all_but_report(plan);
        let mut status: libc::c_int = 0;
        loop {
            let pid = libc::waitpid(-1, &raw mut status, 0);
            if pid == command {
                report(
                    plan.report,
                    Record::Ended {
                        wait_status: status,
                    },
                );
                libc::_exit(0);
            }
            if pid < 0 && errno() != libc::EINTR {
                libc::_exit(1);
            }
        }
    }
}

/// Sets `IFF_UP` on `lo`: the namespace's own loopback, which reaches nothing outside it, so
/// that tests binding 127.0.0.1 work.
unsafe fn loopback_up() -> bool {
    // SAFETY: `request` is a live, zeroed `ifreq` whose name is NUL-terminated; the socket is
    // closed before returning.
    unsafe {
        let socket = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if socket < 0 {
            return false;
        }
        let mut request: libc::ifreq = std::mem::zeroed();
        for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
            *slot = *byte as libc::c_char;
        }
        let mut ok = libc::ioctl(socket, libc::SIOCGIFFLAGS, &raw mut request) == 0;
        if ok {
            request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            ok = libc::ioctl(socket, libc::SIOCSIFFLAGS, &raw mut request) == 0;
        }
        libc::close(socket);
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let records = [
            Record::SetupFailed {
                step: SetupStep::Landlock as u8,
                errno: libc::EPERM,
            },
            Record::Ended {
                wait_status: 0x0100,
            },
        ];
        let bytes: Vec<u8> = records.iter().flat_map(|r| r.encode()).collect();
        assert_eq!(Record::decode_all(&bytes), records);
        assert_eq!(
            SetupStep::from_code(SetupStep::Landlock as u8),
            Some(SetupStep::Landlock)
        );
    }
}
