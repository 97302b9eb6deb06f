//! Running one command, with its whole process tree, in the sandbox, with a wall-clock timeout and
//! a cap on captured output.
//!
//! With [`Isolation::Sandbox`] the command runs as PID 1 of new user, mount, PID and network
//! namespaces (see `child`), under resource limits and a Landlock ruleset that grants only the
//! paths of its [`Spec`] (plus the system paths of [`crate::policy`]). When Nova kills the
//! supervisor on timeout, PID 1 dies with it and the kernel kills every process of the namespace.

use std::ffi::OsString;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::cgroup::PidsCgroup;
use crate::child::{self, Plan, Record, SetupStep};
use crate::landlock::{Access, Ruleset};
use crate::{Limits, Unavailable, policy};

/// How a command is isolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// Namespaces, resource limits and Landlock: see the crate's documentation.
    Sandbox,
    /// No isolation at all: only when the user passed `--unsafe-no-sandbox`.
    None,
}

/// One command to run.
#[derive(Debug, Clone)]
pub struct Spec {
    pub program: OsString,
    pub args: Vec<OsString>,
    pub cwd: PathBuf,
    /// The complete environment of the command: nothing else is inherited.
    pub env: Vec<(OsString, OsString)>,
    pub isolation: Isolation,
    pub timeout: Duration,
    /// Bytes kept of each of stdout and stderr; the rest is read and dropped.
    pub output_limit: usize,
    /// Whether the command keeps the host's network. Only for downloading dependencies, which
    /// runs no repository code; everything else runs with no network at all.
    pub network: bool,
    /// With `network`: when not empty, the only TCP ports the command may connect to (on any
    /// address), by Landlock (ABI 4; refused where the kernel cannot restrict it). UDP is not
    /// restricted. The rule holds in sandboxes nested inside too.
    pub tcp_connect: Vec<u16>,
    /// Paths the command may read (and run programs from), besides the system's.
    pub read: Vec<PathBuf>,
    /// Paths the command may change. Nothing else is writable.
    pub write: Vec<PathBuf>,
    pub limits: Limits,
    /// What the command reads on its standard input; empty: nothing (`/dev/null`).
    pub stdin: Vec<u8>,
}

impl Spec {
    pub fn new(program: impl Into<OsString>, cwd: impl Into<PathBuf>) -> Self {
        Spec {
            program: program.into(),
            args: Vec::new(),
            cwd: cwd.into(),
            env: Vec::new(),
            isolation: Isolation::Sandbox,
            timeout: Duration::from_secs(600),
            output_limit: 64 << 20,
            network: false,
            tcp_connect: Vec::new(),
            read: Vec::new(),
            write: Vec::new(),
            limits: Limits::default(),
            stdin: Vec::new(),
        }
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, name: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    pub fn read(mut self, path: impl Into<PathBuf>) -> Self {
        self.read.push(path.into());
        self
    }

    pub fn write(mut self, path: impl Into<PathBuf>) -> Self {
        self.write.push(path.into());
        self
    }
}

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Exited(i32),
    /// Killed by a signal (see [`Outcome::limit_hit`] for the ones limits send).
    Signaled(i32),
    /// Still running at the timeout; the whole tree was killed.
    TimedOut,
}

/// A resource limit of [`Limits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    AddressSpace,
    Processes,
    FileSize,
    CpuTime,
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Limit::AddressSpace => "the address-space limit",
            Limit::Processes => "the process limit",
            Limit::FileSize => "the file-size limit",
            Limit::CpuTime => "the CPU-time limit",
        })
    }
}

/// What a command did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Whether output past `output_limit` was dropped.
    pub truncated: bool,
    pub elapsed: Duration,
    /// The resource limit the command (or a process it started) ran into, if any: from the
    /// signal that ended it, else from what the standard tools print when a limit refuses them.
    pub limit_hit: Option<Limit>,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.status == Status::Exited(0)
    }
}

/// Why a command could not be run at all.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    #[error(
        "the sandbox could not be set up: cannot {what}: {source}. Run `nova doctor` to see what \
         this machine supports"
    )]
    Setup {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("lost track of `{program}`: {source}")]
    Wait {
        program: String,
        #[source]
        source: std::io::Error,
    },
}

fn setup_error(what: &'static str) -> impl FnOnce(std::io::Error) -> RunError {
    move |source| RunError::Setup { what, source }
}

/// The Landlock ruleset of `spec`: the system's read-only paths, then the spec's own.
fn ruleset(spec: &Spec) -> Result<Ruleset, RunError> {
    let ports = spec.network && !spec.tcp_connect.is_empty();
    let mut ruleset = Ruleset::new(ports).map_err(|source| {
        RunError::Unavailable(Unavailable {
            feature: crate::Feature::Landlock,
            why: source.to_string(),
        })
    })?;
    if ports {
        for port in &spec.tcp_connect {
            ruleset
                .allow_port(*port)
                .map_err(setup_error("add a Landlock rule for a TCP port"))?;
        }
    }
    let rules = policy::system_rules()
        .into_iter()
        .chain(spec.read.iter().map(|p| (p.clone(), Access::Read)))
        .chain(spec.write.iter().map(|p| (p.clone(), Access::Write)));
    for (path, access) in rules {
        ruleset
            .allow(&path, access)
            .map_err(setup_error("add a Landlock rule"))?;
    }
    Ok(ruleset)
}

/// Whether this process runs inside an outer sandbox (a Nova run validating Nova): found by the
/// first sandboxed command, whose setup then fails where Landlock forbids writing `/proc` or
/// mounting, and kept for the life of the process.
static NESTED: AtomicBool = AtomicBool::new(false);
static MODE_KNOWN: AtomicBool = AtomicBool::new(false);

/// Whether sandboxed commands run nested in an outer sandbox (see [`crate::describe`]).
pub(crate) fn nested() -> bool {
    if !MODE_KNOWN.load(Ordering::Relaxed) {
        let spec = Spec::new("/bin/sh", "/").args(["-c", "exit 0"]);
        // nova:allow(ignored-result): only what the run teaches (the mode) is wanted here
        let _ = run(&spec);
    }
    NESTED.load(Ordering::Relaxed)
}

/// Why one attempt failed.
enum Attempt {
    Failed(RunError),
    /// A setup step failed in the child, with this errno.
    Setup(SetupStep, i32),
}

impl From<RunError> for Attempt {
    fn from(error: RunError) -> Self {
        Attempt::Failed(error)
    }
}

/// Runs `spec` to completion, or until its timeout.
///
/// Inside an outer sandbox (Nova validating Nova), whose Landlock domain forbids writing
/// `/proc` and mounting, the command gets new mount, PID and network namespaces, the limits and
/// its own Landlock domain stacked on the outer one, but no user namespace or `/proc` of its own.
pub fn run(spec: &Spec) -> Result<Outcome, RunError> {
    let nested = NESTED.load(Ordering::Relaxed);
    let result = match run_once(spec, nested) {
        Err(Attempt::Setup(step, errno))
            if spec.isolation == Isolation::Sandbox
                && !nested
                && !MODE_KNOWN.load(Ordering::Relaxed)
                && step.denied_when_nested(errno) =>
        {
            NESTED.store(true, Ordering::Relaxed);
            run_once(spec, true)
        }
        result => result,
    };
    if spec.isolation == Isolation::Sandbox && !matches!(result, Err(Attempt::Failed(_))) {
        MODE_KNOWN.store(true, Ordering::Relaxed);
    }
    result.map_err(|attempt| match attempt {
        Attempt::Failed(error) => error,
        Attempt::Setup(step, errno) => RunError::Setup {
            what: step.describe(),
            source: std::io::Error::from_raw_os_error(errno),
        },
    })
}

/// A command left running with its stdin and stdout open to the caller: a server spoken to over
/// pipes (an MCP server). It is isolated as its [`Spec`] says, its stderr is dropped, and it is
/// killed, with everything it started, when this is dropped. Its timeout does not apply: the
/// caller bounds each exchange.
#[derive(Debug)]
pub struct Spawned {
    child: std::process::Child,
    /// What the command reads; `None` once taken.
    pub stdin: Option<std::process::ChildStdin>,
    /// What the command writes; `None` once taken.
    pub stdout: Option<std::process::ChildStdout>,
    cgroup: Option<PidsCgroup>,
    group: bool,
}

impl Spawned {
    /// Whether the command has ended, and how.
    pub fn ended(&mut self) -> Option<Status> {
        use std::os::unix::process::ExitStatusExt;
        let status = self.child.try_wait().ok()??;
        Some(match (status.code(), status.signal()) {
            (Some(code), _) => Status::Exited(code),
            (None, Some(signal)) => Status::Signaled(signal),
            (None, None) => Status::Exited(-1),
        })
    }

    /// Kills the command and what it started, and waits for it.
    pub fn kill(&mut self) {
        if self.group {
            child::kill_group(self.child.id());
        }
        // nova:allow(ignored-result): it may have ended already
        let _ = self.child.kill();
        // nova:allow(ignored-result): reaping what was just killed
        let _ = self.child.wait();
        if let Some(cgroup) = self.cgroup.take() {
            // nova:allow(ignored-result): removing the cgroup is cleanup
            let _ = cgroup.remove();
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `spec`'s command and leaves it running: see [`Spawned`]. Its sandbox, when it asks for
/// one, is the same as [`run`]'s; a command whose sandbox cannot be set up ends at once (its
/// pipes close).
pub fn spawn(spec: &Spec) -> Result<Spawned, RunError> {
    let nested = NESTED.load(Ordering::Relaxed);
    let launched = launch(spec, nested, true, Stdio::null()).map_err(|attempt| match attempt {
        Attempt::Failed(error) => error,
        Attempt::Setup(step, errno) => RunError::Setup {
            what: step.describe(),
            source: std::io::Error::from_raw_os_error(errno),
        },
    })?;
    let mut child = launched.child;
    Ok(Spawned {
        stdin: child.stdin.take(),
        stdout: child.stdout.take(),
        child,
        cgroup: launched.cgroup,
        group: spec.isolation == Isolation::None,
    })
}

/// A command started: the process, the sandbox's report pipe, its pids cgroup.
struct Launched {
    child: std::process::Child,
    report: Option<std::io::PipeReader>,
    cgroup: Option<PidsCgroup>,
    program: String,
    started: Instant,
}

/// Starts `spec`'s command, isolated as it asks, its stdout piped, its stdin piped when `input`.
fn launch(spec: &Spec, nested: bool, input: bool, stderr: Stdio) -> Result<Launched, Attempt> {
    let mut command = Command::new(&spec.program);
    command
        .args(&spec.args)
        .current_dir(&spec.cwd)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(if input { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(stderr);

    let mut sandbox = None;
    let mut cgroup = None;
    if spec.isolation == Isolation::None {
        // A group of its own, so that a timeout kills whatever it started too.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
    }
    if spec.isolation == Isolation::Sandbox {
        crate::probe().map_err(RunError::from)?;
        let ruleset = ruleset(spec)?;
        let (reader, writer) = std::io::pipe().map_err(setup_error("open a pipe"))?;
        let (uid, gid) = child::ids();
        // Linux does not enforce RLIMIT_NPROC for root: a pids cgroup bounds the tree instead.
        if uid == 0
            && let Some(max) = spec.limits.processes
        {
            cgroup = PidsCgroup::create(max).ok();
        }
        let plan = Plan {
            uid_map: format!("0 {uid} 1").into_bytes(),
            gid_map: format!("0 {gid} 1").into_bytes(),
            network: spec.network,
            nested,
            limits: child::within_hard_limits(spec.limits.rlimits()),
            landlock: Some(ruleset.fd()),
            proc_rights: ruleset.rights(Access::Read),
            report: std::os::fd::AsRawFd::as_raw_fd(&writer),
            cgroup_procs: cgroup.as_ref().map(|cgroup| cgroup.procs.clone()),
            parent: i32::try_from(std::process::id()).unwrap_or(0),
        };
        child::install(&mut command, plan);
        sandbox = Some((reader, writer, ruleset));
    }

    let program = spec.program.to_string_lossy().into_owned();
    let started = Instant::now();
    let spawned = command.spawn();
    // The parent's copies go, so that the report pipe ends when the sandbox's processes do.
    let report = sandbox.map(|(reader, writer, ruleset)| {
        drop((writer, ruleset));
        reader
    });
    match spawned {
        Ok(child) => Ok(Launched {
            child,
            report,
            cgroup,
            program,
            started,
        }),
        Err(source) => {
            if let Some(cgroup) = cgroup {
                // nova:allow(ignored-result): removing the cgroup is cleanup; the error above is what is reported
                let _ = cgroup.remove();
            }
            if let Some(reader) = report
                && let Some((step, errno)) = setup_failure(reader)
            {
                return Err(Attempt::Setup(step, errno));
            }
            Err(RunError::Spawn { program, source }.into())
        }
    }
}

fn run_once(spec: &Spec, nested: bool) -> Result<Outcome, Attempt> {
    let Launched {
        mut child,
        report,
        cgroup,
        program,
        started,
    } = launch(spec, nested, !spec.stdin.is_empty(), Stdio::piped())?;
    let stdin = feed(&mut child, &spec.stdin);
    let limit = spec.output_limit;
    let stdout = child
        .stdout
        .take()
        .map(|pipe| thread::spawn(move || capture(pipe, limit)));
    let stderr = child
        .stderr
        .take()
        .map(|pipe| thread::spawn(move || capture(pipe, limit)));

    let group = spec.isolation == Isolation::None;
    let (status, timed_out) = wait_until(&mut child, started + spec.timeout, &program, group)?;
    if let Some(writer) = stdin {
        // nova:allow(ignored-result): the writer only ever ends; a panic there is the pipe's
        let _ = writer.join();
    }
    // The pipes close when the tree is gone, so the readers finish with what was written.
    let (stdout, out_cut) = join(stdout);
    let (stderr, err_cut) = join(stderr);

    let status = command_status(report, status, timed_out);
    let mut limit_hit = limit_hit(status, &stdout, &stderr);
    if let Some(cgroup) = cgroup {
        if cgroup.limit_was_hit() && status != Status::Exited(0) {
            limit_hit = Some(Limit::Processes);
        }
        // nova:allow(ignored-result): removing the cgroup is cleanup; the command's outcome is what is reported
        let _ = cgroup.remove();
    }
    Ok(Outcome {
        status,
        stdout,
        stderr,
        truncated: out_cut || err_cut,
        elapsed: started.elapsed(),
        limit_hit,
    })
}

/// Writes `input` to `child`'s stdin from a thread of its own: a command that does not read it
/// all, or exits first, never blocks the run (the write fails with a broken pipe, which is its
/// business).
fn feed(child: &mut std::process::Child, input: &[u8]) -> Option<thread::JoinHandle<()>> {
    let mut pipe = child.stdin.take()?;
    let input = input.to_vec();
    Some(thread::spawn(move || {
        use std::io::Write;
        // nova:allow(ignored-result): a command may close its input without reading it
        let _ = pipe.write_all(&input);
    }))
}

/// Waits for `child` until `deadline`, killing it then: its exit status, and whether it timed
/// out.
fn wait_until(
    child: &mut std::process::Child,
    deadline: Instant,
    program: &str,
    group: bool,
) -> Result<(std::process::ExitStatus, bool), RunError> {
    let wait_error = |source| RunError::Wait {
        program: program.to_owned(),
        source,
    };
    loop {
        if let Some(status) = child.try_wait().map_err(wait_error)? {
            return Ok((status, false));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            // Killing the supervisor kills PID 1 of the namespace (its death signal), and with
            // it every process in the namespace.
            // Without a sandbox, the command leads a process group of its own: the group goes.
            if group {
                child::kill_group(child.id());
            }
            // nova:allow(ignored-result): the supervisor may be gone already
            let _ = child.kill();
            return Ok((child.wait().map_err(wait_error)?, true));
        }
        // Sleeps until the child exits (a pidfd), or polls where the kernel cannot say.
        if child::wait_exit(child.id(), left).is_err() {
            thread::sleep(left.min(Duration::from_millis(1)));
        }
    }
}

/// How the command ended: in a sandbox, what its init reported through the pipe (the
/// supervisor's own status says nothing); else the process's own status.
fn command_status(
    report: Option<std::io::PipeReader>,
    status: std::process::ExitStatus,
    timed_out: bool,
) -> Status {
    let wait_status = match report {
        // The supervisor's own status says nothing: the command's comes through the pipe.
        Some(mut reader) => {
            let mut bytes = Vec::new();
            // nova:allow(ignored-result): what could be read is all there is
            let _ = reader.read_to_end(&mut bytes);
            Record::decode_all(&bytes)
                .into_iter()
                .find_map(|record| match record {
                    Record::Ended { wait_status } => Some(wait_status),
                    Record::SetupFailed { .. } => None,
                })
        }
        None => Some(std::os::unix::process::ExitStatusExt::into_raw(status)),
    };
    match wait_status {
        _ if timed_out => Status::TimedOut,
        Some(raw) if libc::WIFEXITED(raw) => Status::Exited(libc::WEXITSTATUS(raw)),
        Some(raw) if libc::WIFSIGNALED(raw) => Status::Signaled(libc::WTERMSIG(raw)),
        // The supervisor died without a word: only a signal from outside does that.
        _ => Status::Signaled(libc::SIGKILL),
    }
}

/// The setup step that failed and its errno, from the report pipe of a spawn that failed.
fn setup_failure(mut reader: std::io::PipeReader) -> Option<(SetupStep, i32)> {
    let mut bytes = Vec::new();
    // nova:allow(ignored-result): what could be read is all there is
    let _ = reader.read_to_end(&mut bytes);
    Record::decode_all(&bytes)
        .into_iter()
        .find_map(|record| match record {
            Record::SetupFailed { step, errno } => Some((SetupStep::from_code(step)?, errno)),
            Record::Ended { .. } => None,
        })
}

/// Which limit, if any, ended the command or refused one of its processes.
fn limit_hit(status: Status, stdout: &[u8], stderr: &[u8]) -> Option<Limit> {
    match status {
        Status::Signaled(libc::SIGXCPU) => return Some(Limit::CpuTime),
        Status::Signaled(libc::SIGXFSZ) => return Some(Limit::FileSize),
        // A command that succeeded was not stopped, whatever its output says.
        Status::Exited(0) => return None,
        _ => {}
    }
    // What cargo, libtest, Rust's allocator and the shells print when a limit stops a process
    // further down the tree.
    const MARKERS: &[(&str, Limit)] = &[
        ("SIGXCPU", Limit::CpuTime),
        ("SIGXFSZ", Limit::FileSize),
        ("File size limit exceeded", Limit::FileSize),
        ("File too large", Limit::FileSize),
        ("CPU time limit exceeded", Limit::CpuTime),
        ("memory allocation of", Limit::AddressSpace),
        ("Cannot allocate memory", Limit::AddressSpace),
        ("out of memory", Limit::AddressSpace),
        ("Cannot fork", Limit::Processes),
        ("fork: Resource temporarily unavailable", Limit::Processes),
        // Rust's `Command::spawn` refused, as `Display` and as `Debug` print it.
        (
            "Resource temporarily unavailable (os error 11)",
            Limit::Processes,
        ),
        ("code: 11, kind: WouldBlock", Limit::Processes),
        (
            "fork: retry: Resource temporarily unavailable",
            Limit::Processes,
        ),
    ];
    let texts = [
        String::from_utf8_lossy(stderr),
        String::from_utf8_lossy(stdout),
    ];
    // Cargo names a test binary's signal by number alone: "(signal: 25)".
    let by_number = [
        (format!("(signal: {})", libc::SIGXCPU), Limit::CpuTime),
        (format!("(signal: {})", libc::SIGXFSZ), Limit::FileSize),
    ];
    let found = |marker: &str| texts.iter().any(|text| text.contains(marker));
    MARKERS
        .iter()
        .find(|(marker, _)| found(marker))
        .map(|&(_, limit)| limit)
        .or_else(|| {
            by_number
                .iter()
                .find(|(marker, _)| found(marker))
                .map(|&(_, limit)| limit)
        })
}

type Capture = Option<thread::JoinHandle<(Vec<u8>, bool)>>;

fn join(handle: Capture) -> (Vec<u8>, bool) {
    handle.and_then(|h| h.join().ok()).unwrap_or_default()
}

/// Reads a pipe to its end, keeping at most `limit` bytes.
fn capture(mut pipe: impl Read, limit: usize) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut truncated = false;
    let mut buf = [0u8; 64 * 1024];
    loop {
        match pipe.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = limit.saturating_sub(kept.len());
                if n > room {
                    truncated = true;
                }
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    (kept, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Spec {
        Spec::new("/bin/sh", std::env::temp_dir())
            .args(["-c", script])
            .env("PATH", "/usr/bin:/bin")
    }

    #[test]
    fn captures_output_and_exit_code() {
        let outcome = run(&sh("echo out; echo err >&2; exit 3")).expect("runs");
        assert_eq!(outcome.status, Status::Exited(3));
        assert_eq!(outcome.stdout, b"out\n");
        assert_eq!(outcome.stderr, b"err\n");
    }

    #[test]
    fn the_input_reaches_the_command_and_one_that_ignores_it_still_ends() {
        let mut spec = sh("tr a-z A-Z");
        spec.stdin = b"{\"event\": \"commit\"}".to_vec();
        let outcome = run(&spec).expect("runs");
        assert_eq!(outcome.stdout, b"{\"EVENT\": \"COMMIT\"}");
        // More input than a pipe holds, to a command that reads none of it.
        let mut spec = sh("exit 0");
        spec.stdin = vec![b'x'; 1 << 20];
        assert_eq!(run(&spec).expect("runs").status, Status::Exited(0));
    }

    #[test]
    fn without_a_sandbox_a_timeout_kills_what_the_command_started() {
        let mut spec = sh("sleep 30 & sleep 30");
        spec.isolation = Isolation::None;
        spec.timeout = Duration::from_millis(300);
        let outcome = run(&spec).expect("runs");
        assert_eq!(outcome.status, Status::TimedOut);
        // The background sleep held the output pipes: it went with its group.
        assert!(
            outcome.elapsed < Duration::from_secs(10),
            "{:?}",
            outcome.elapsed
        );
    }

    #[test]
    fn a_spawned_command_talks_over_its_pipes_and_dies_with_its_handle() {
        use std::io::{BufRead, Write};
        let mut spec = sh("while read line; do echo \"got $line\"; done");
        spec.isolation = Isolation::None;
        let mut spawned = spawn(&spec).expect("spawns");
        let mut stdin = spawned.stdin.take().expect("stdin");
        let mut stdout = std::io::BufReader::new(spawned.stdout.take().expect("stdout"));
        stdin.write_all(b"ping\n").expect("write");
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read");
        assert_eq!(line, "got ping\n");
        assert_eq!(spawned.ended(), None);
        // What it started goes with it: the pipe closes when the last holder is gone.
        let mut spec = sh("sleep 30 & sleep 30");
        spec.isolation = Isolation::None;
        let mut sleeper = spawn(&spec).expect("spawns");
        let mut out = sleeper.stdout.take().expect("stdout");
        let started = Instant::now();
        drop(sleeper);
        let mut rest = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut rest).expect("eof");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_spawned_command_in_the_sandbox_has_no_network_and_talks_over_its_pipes() {
        use std::io::{BufRead, Write};
        if let Err(why) = crate::probe() {
            skip(&format!("no sandbox here: {why}"));
            return;
        }
        // A network namespace of its own: not this process's.
        let host = std::fs::read_link("/proc/self/ns/net").expect("this process's namespace");
        let spawned = spawn(&sh("read line; echo \"$line\"; readlink /proc/self/ns/net"));
        let mut spawned = spawned.expect("spawns in the sandbox");
        let mut stdin = spawned.stdin.take().expect("stdin");
        stdin.write_all(b"hello\n").expect("write");
        let mut out = std::io::BufReader::new(spawned.stdout.take().expect("stdout"));
        let mut lines = Vec::new();
        let mut line = String::new();
        while out.read_line(&mut line).expect("read") > 0 {
            lines.push(line.trim().to_owned());
            line.clear();
        }
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0], "hello");
        assert!(lines[1].starts_with("net:["), "{lines:?}");
        assert_ne!(std::path::Path::new(&lines[1]), host);
    }

    #[test]
    fn the_environment_is_only_what_is_given() {
        let outcome = run(&sh("env | sort").env("ONLY", "this")).expect("runs");
        let text = String::from_utf8_lossy(&outcome.stdout);
        assert!(text.contains("ONLY=this"), "{text}");
        assert!(!text.contains("HOME="), "{text}");
    }

    #[test]
    fn a_timeout_kills_the_whole_tree() {
        let marker =
            std::env::temp_dir().join(format!("nova-sandbox-orphan-{}", std::process::id()));
        let script = format!("(sleep 2; touch {}) & sleep 30", marker.display());
        let mut spec = sh(&script);
        spec.timeout = Duration::from_millis(300);
        let outcome = run(&spec).expect("runs");
        assert_eq!(outcome.status, Status::TimedOut);
        assert!(outcome.elapsed < Duration::from_secs(10));
        // The background subshell's command line names the marker: once the kernel has reaped
        // the tree, no process does.
        let marker = marker.to_string_lossy().into_owned();
        let survivors = || -> Vec<String> {
            let Ok(entries) = std::fs::read_dir("/proc") else {
                return Vec::new();
            };
            entries
                .filter_map(|entry| std::fs::read(entry.ok()?.path().join("cmdline")).ok())
                .map(|cmdline| String::from_utf8_lossy(&cmdline).replace('\0', " "))
                .filter(|cmdline| cmdline.contains(&marker))
                .collect()
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while !survivors().is_empty() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(survivors(), Vec::<String>::new(), "survived the timeout");
    }

    #[test]
    fn output_is_capped() {
        let mut spec = sh("head -c 100000 /dev/zero");
        spec.output_limit = 1000;
        let outcome = run(&spec).expect("runs");
        assert_eq!(outcome.stdout.len(), 1000);
        assert!(outcome.truncated);
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("nova-sandbox-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        dir
    }

    #[test]
    fn only_granted_paths_are_writable_or_readable() {
        let dir = scratch("landlock");
        let (open, closed) = (dir.join("open"), dir.join("closed"));
        std::fs::create_dir_all(&open).expect("mkdir");
        std::fs::create_dir_all(&closed).expect("mkdir");
        std::fs::write(closed.join("secret"), "canary").expect("write");
        let script = "touch \"$1/new\" && echo wrote-open; \
                      touch \"$2/new\" 2>/dev/null && echo wrote-closed; \
                      cat \"$2/secret\" 2>/dev/null; \
                      ls \"$2\" 2>/dev/null; \
                      echo done";
        let spec = sh(script)
            .arg("sh")
            .arg(open.clone())
            .arg(closed.clone())
            .write(open.clone());
        let outcome = run(&spec).expect("runs");
        assert_eq!(
            String::from_utf8_lossy(&outcome.stdout),
            "wrote-open\ndone\n",
            "{outcome:?}"
        );
        assert!(open.join("new").exists());
        assert!(!closed.join("new").exists());
        std::fs::remove_dir_all(dir).expect("cleanup");
    }

    #[test]
    fn the_file_size_limit_is_reported() {
        let dir = scratch("fsize");
        let mut spec = sh("head -c 10000000 /dev/zero > big").write(dir.clone());
        spec.cwd = dir.clone();
        spec.limits.file_size = Some(1 << 20);
        let outcome = run(&spec).expect("runs");
        assert_eq!(outcome.limit_hit, Some(Limit::FileSize), "{outcome:?}");
        assert!(std::fs::metadata(dir.join("big")).expect("file").len() <= 1 << 20);
        std::fs::remove_dir_all(dir).expect("cleanup");
    }

    #[test]
    fn the_cpu_limit_is_reported() {
        let mut spec = sh("while :; do :; done");
        spec.limits.cpu_seconds = Some(1);
        let outcome = run(&spec).expect("runs");
        assert_eq!(outcome.status, Status::Signaled(libc::SIGXCPU));
        assert_eq!(outcome.limit_hit, Some(Limit::CpuTime));
    }

    #[test]
    fn the_process_limit_stops_a_fork_bomb() {
        let mut spec = sh("i=0; while [ $i -lt 200 ]; do sleep 5 & i=$((i+1)); done; wait");
        spec.limits.processes = Some(50);
        spec.timeout = Duration::from_secs(30);
        let outcome = run(&spec).expect("runs");
        assert_eq!(outcome.limit_hit, Some(Limit::Processes), "{outcome:?}");
    }

    #[test]
    fn the_address_space_limit_stops_an_allocation() {
        let mut spec = sh("awk 'BEGIN { s = \"x\"; while (1) s = s s }'");
        spec.limits.address_space = Some(64 << 20);
        let outcome = run(&spec).expect("runs");
        assert!(!outcome.success(), "{outcome:?}");
        assert_eq!(outcome.limit_hit, Some(Limit::AddressSpace), "{outcome:?}");
    }

    #[test]
    fn the_host_loopback_is_out_of_reach_but_the_sandbox_has_its_own() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
        let port = listener.local_addr().expect("addr").port();
        if !std::path::Path::new("/bin/bash").exists() {
            skip("the loopback test needs `/bin/bash` for `/dev/tcp`");
            return;
        }
        let script = format!(
            "(exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && echo reached-host; \
             grep -c . /proc/net/dev"
        );
        let spec = Spec::new("/bin/bash", std::env::temp_dir())
            .args(["-c", &script])
            .env("PATH", "/usr/bin:/bin");
        let outcome = run(&spec).expect("runs");
        // Only the two header lines and `lo`: no interface reaches the host.
        assert_eq!(
            String::from_utf8_lossy(&outcome.stdout),
            "3\n",
            "{outcome:?}"
        );
        listener.set_nonblocking(true).expect("nonblocking");
        assert!(listener.accept().is_err(), "a connection reached the host");
    }

    #[test]
    fn with_the_network_kept_only_the_allowed_tcp_port_is_reached() {
        if !std::path::Path::new("/bin/bash").exists() {
            skip("the port test needs `/bin/bash` for `/dev/tcp`");
            return;
        }
        if crate::landlock::abi_version().unwrap_or(0) < crate::landlock::NET_ABI {
            skip("this kernel's Landlock cannot restrict TCP connections");
            return;
        }
        let allowed = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
        let refused = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
        let port = |l: &std::net::TcpListener| l.local_addr().expect("addr").port();
        let script = format!(
            "(exec 3<>/dev/tcp/127.0.0.1/{}) 2>/dev/null && echo allowed; \
             (exec 3<>/dev/tcp/127.0.0.1/{}) 2>/dev/null && echo refused; echo done",
            port(&allowed),
            port(&refused)
        );
        let mut spec = Spec::new("/bin/bash", std::env::temp_dir())
            .args(["-c", &script])
            .env("PATH", "/usr/bin:/bin");
        spec.network = true;
        spec.tcp_connect = vec![port(&allowed)];
        let outcome = run(&spec).expect("runs");
        assert_eq!(
            String::from_utf8_lossy(&outcome.stdout),
            "allowed\ndone\n",
            "{outcome:?}"
        );
        refused.set_nonblocking(true).expect("nonblocking");
        assert!(refused.accept().is_err(), "a connection reached the port");
    }

    /// Run by `a_sandbox_runs_inside_a_sandbox`, inside the sandbox.
    #[test]
    #[ignore = "run inside the sandbox by a_sandbox_runs_inside_a_sandbox"]
    fn inner_sandbox() {
        let outcome = run(&sh("echo inner; cat /proc/net/dev | wc -l")).expect("nested run");
        assert_eq!(String::from_utf8_lossy(&outcome.stdout), "inner\n3\n");
        println!("described as: {}", crate::describe(Isolation::Sandbox));
    }

    #[test]
    fn a_sandbox_runs_inside_a_sandbox() {
        // Nova validating Nova: its tests run sandboxed commands from inside the sandbox.
        let exe = std::env::current_exe().expect("test binary");
        let spec = Spec::new(&exe, std::env::temp_dir())
            .args([
                "--exact",
                "run::tests::inner_sandbox",
                "--ignored",
                "--nocapture",
            ])
            .read(exe.parent().expect("deps dir"));
        let outcome = run(&spec).expect("outer run");
        let stdout = String::from_utf8_lossy(&outcome.stdout);
        assert!(outcome.success(), "{outcome:?}");
        assert!(stdout.contains("nested in an outer sandbox"), "{stdout}");
    }

    #[test]
    fn limits_are_read_from_what_failing_tools_print() {
        let spawn_refused = b"called `Result::unwrap()` on an `Err` value: Os { code: 11, kind: \
                              WouldBlock, message: \"Resource temporarily unavailable\" }";
        let cases: [(&[u8], Option<Limit>); 4] = [
            (spawn_refused, Some(Limit::Processes)),
            (
                b"memory allocation of 67108864 bytes failed",
                Some(Limit::AddressSpace),
            ),
            (
                b"process didn't exit successfully: `x` (signal: 25)",
                Some(Limit::FileSize),
            ),
            (b"test result: FAILED. 1 passed; 1 failed", None),
        ];
        for (output, limit) in cases {
            assert_eq!(limit_hit(Status::Exited(101), output, b""), limit);
            // A command that succeeded hit nothing, whatever it printed.
            assert_eq!(limit_hit(Status::Exited(0), output, b""), None);
        }
    }

    #[test]
    fn unsandboxed_runs_in_the_hosts_namespaces_and_sandboxed_does_not() {
        let host = std::fs::read_link("/proc/self/ns/net").expect("this process's namespace");
        let host = host.to_string_lossy();
        let namespace = |isolation| {
            let mut spec = sh("readlink /proc/self/ns/net");
            spec.isolation = isolation;
            let outcome = run(&spec).expect("runs");
            assert!(outcome.success(), "{outcome:?}");
            String::from_utf8_lossy(&outcome.stdout).trim().to_owned()
        };
        assert_eq!(namespace(Isolation::None), host);
        let sandboxed = namespace(Isolation::Sandbox);
        assert!(sandboxed.starts_with("net:["), "{sandboxed}");
        assert_ne!(sandboxed, host);
    }

    /// A test that cannot run here says why on stderr (past libtest's capture) and in
    /// `$NOVA_SKIP_LOG` (which `.ci/run` counts), and fails in CI, whose machines have what every
    /// test needs.
    #[expect(clippy::disallowed_methods, reason = "whether this runs in CI")]
    fn skip(why: &str) {
        use std::io::Write as _;
        let line = format!("skipped: nova-sandbox: {why}\n");
        let _ = std::io::stderr().write_all(line.as_bytes());
        if let Ok(log) = std::env::var("NOVA_SKIP_LOG") {
            let file = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(log);
            let _ = file.and_then(|mut file| file.write_all(line.as_bytes()));
        }
        let ci = std::env::var("CI").is_ok_and(|ci| ci == "true");
        assert!(!ci, "skipped in CI: {why}");
    }
}
