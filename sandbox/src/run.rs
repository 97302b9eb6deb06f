//! Running one command, with its whole process tree, isolated, with a wall-clock timeout and a cap
//! on captured output.
//!
//! Isolation today: new user, mount, PID and network namespaces, made by util-linux `unshare`. The
//! command sees no network at all (its namespace's loopback is down) and runs as PID 1's child in
//! its own PID namespace, so when Nova kills `unshare` on timeout the kernel kills every process
//! the command started. Paths given as `read_only` are bind-mounted read-only inside the mount
//! namespace, with `writable` paths under them left writable. Full filesystem confinement
//! (Landlock) and resource limits come with the sandbox issue; this module keeps the interface.

use std::ffi::OsString;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::Unavailable;

/// How a command is isolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// New user, mount, PID and network namespaces: no network, one process tree.
    Namespaces,
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
    /// Trees the command may read but not change (with `Isolation::Namespaces`).
    pub read_only: Vec<PathBuf>,
    /// Trees inside `read_only` ones that stay writable.
    pub writable: Vec<PathBuf>,
}

impl Spec {
    pub fn new(program: impl Into<OsString>, cwd: impl Into<PathBuf>) -> Self {
        Spec {
            program: program.into(),
            args: Vec::new(),
            cwd: cwd.into(),
            env: Vec::new(),
            isolation: Isolation::Namespaces,
            timeout: Duration::from_secs(600),
            output_limit: 64 << 20,
            read_only: Vec::new(),
            writable: Vec::new(),
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
}

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Exited(i32),
    /// Killed by a signal it did not ask for.
    Signaled(i32),
    /// Still running at the timeout; the whole tree was killed.
    TimedOut,
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

/// The exit code `unshare` itself uses when it cannot set up the namespaces.
const UNSHARE_SETUP_FAILED: i32 = 1;

/// The exit code of the mount script when a mount fails.
const MOUNT_FAILED: i32 = 125;

/// `'text'` for the shell, whatever `text` holds.
fn quote(path: &std::path::Path) -> String {
    format!("'{}'", path.to_string_lossy().replace('\'', r"'\''"))
}

/// Binds `writable` trees onto themselves, then `read_only` trees (with those submounts) onto
/// themselves read-only, then runs the command.
fn mount_script(spec: &Spec) -> String {
    let mut script = String::new();
    let fail = |what: &str, path: &str| {
        format!(" || {{ echo \"nova-sandbox: cannot {what} {path}\" >&2; exit {MOUNT_FAILED}; }}\n")
    };
    for path in &spec.writable {
        let p = quote(path);
        script.push_str(&format!("mount --bind {p} {p}{}", fail("bind", &p)));
    }
    for path in &spec.read_only {
        let p = quote(path);
        script.push_str(&format!("mount --rbind {p} {p}{}", fail("bind", &p)));
        script.push_str(&format!(
            "mount -o remount,bind,ro {p}{}",
            fail("make read-only", &p)
        ));
    }
    script.push_str("exec \"$@\"\n");
    script
}

/// Runs `spec` to completion, or until its timeout.
pub fn run(spec: &Spec) -> Result<Outcome, RunError> {
    let mut command = match spec.isolation {
        Isolation::Namespaces => {
            crate::probe()?;
            let mut command = Command::new("unshare");
            command
                .args(["--user", "--map-root-user", "--net", "--pid", "--fork"])
                .args(["--kill-child", "--mount-proc", "--"]);
            if !spec.read_only.is_empty() {
                // A shell inside the namespaces makes the mounts, then becomes the command.
                command.args(["/bin/sh", "-c", &mount_script(spec), "nova-sandbox"]);
            }
            command.arg(&spec.program);
            command
        }
        Isolation::None => Command::new(&spec.program),
    };
    command
        .args(&spec.args)
        .current_dir(&spec.cwd)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());

    let program = spec.program.to_string_lossy().into_owned();
    let started = Instant::now();
    let mut child = command.spawn().map_err(|source| RunError::Spawn {
        program: match spec.isolation {
            Isolation::Namespaces => String::from("unshare"),
            Isolation::None => program.clone(),
        },
        source,
    })?;
    let limit = spec.output_limit;
    let stdout = child
        .stdout
        .take()
        .map(|pipe| thread::spawn(move || capture(pipe, limit)));
    let stderr = child
        .stderr
        .take()
        .map(|pipe| thread::spawn(move || capture(pipe, limit)));

    let deadline = started + spec.timeout;
    let wait_error = |source| RunError::Wait {
        program: program.clone(),
        source,
    };
    let status = loop {
        if let Some(status) = child.try_wait().map_err(wait_error)? {
            break status;
        }
        if Instant::now() >= deadline {
            // Killing `unshare` kills its forked child (`--kill-child`), PID 1 of the namespace,
            // and with it every process in the namespace.
            let _ = child.kill();
            child.wait().map_err(wait_error)?;
            // The pipes close when the tree dies, so the readers finish with what was written.
            let (stdout, out_cut) = join(stdout);
            let (stderr, err_cut) = join(stderr);
            return Ok(Outcome {
                status: Status::TimedOut,
                stdout,
                stderr,
                truncated: out_cut || err_cut,
                elapsed: started.elapsed(),
            });
        }
        thread::sleep(Duration::from_millis(20));
    };

    let (stdout, out_cut) = join(stdout);
    let (stderr, err_cut) = join(stderr);
    let status = match (
        status.code(),
        std::os::unix::process::ExitStatusExt::signal(&status),
    ) {
        (Some(code), _) => Status::Exited(code),
        (None, Some(signal)) => Status::Signaled(signal),
        (None, None) => Status::Signaled(0),
    };
    let setup_failed = (status == Status::Exited(UNSHARE_SETUP_FAILED)
        && stderr.starts_with(b"unshare:"))
        || (status == Status::Exited(MOUNT_FAILED) && stderr.starts_with(b"nova-sandbox:"));
    if spec.isolation == Isolation::Namespaces && setup_failed {
        let why = String::from_utf8_lossy(&stderr).trim().to_owned();
        return Err(Unavailable {
            feature: crate::Feature::UserNamespaces,
            why,
        }
        .into());
    }
    Ok(Outcome {
        status,
        stdout,
        stderr,
        truncated: out_cut || err_cut,
        elapsed: started.elapsed(),
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
    fn the_environment_is_only_what_is_given() {
        let outcome = run(&sh("env | sort").env("ONLY", "this")).expect("runs");
        let text = String::from_utf8_lossy(&outcome.stdout);
        assert!(text.contains("ONLY=this"), "{text}");
        assert!(!text.contains("HOME="), "{text}");
    }

    #[test]
    fn no_network_inside() {
        // Inside the namespace the only interface is a loopback that is down.
        let outcome = run(&sh(
            "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '",
        ))
        .expect("runs");
        assert_eq!(String::from_utf8_lossy(&outcome.stdout).trim(), "lo");
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
        thread::sleep(Duration::from_secs(3));
        assert!(
            !marker.exists(),
            "a background process survived the timeout"
        );
    }

    #[test]
    fn output_is_capped() {
        let mut spec = sh("head -c 100000 /dev/zero");
        spec.output_limit = 1000;
        let outcome = run(&spec).expect("runs");
        assert_eq!(outcome.stdout.len(), 1000);
        assert!(outcome.truncated);
    }

    #[test]
    fn read_only_trees_stay_unchanged_but_writable_ones_do_not() {
        let dir = std::env::temp_dir().join(format!("nova-sandbox-ro-{}", std::process::id()));
        let inner = dir.join("state dir's");
        std::fs::create_dir_all(&inner).expect("mkdir");
        let script = "touch \"$0/file\" 2>/dev/null && echo wrote; touch \"$0/state dir's/file\" && echo inner";
        let mut spec = sh(script).arg(dir.clone());
        spec.read_only = vec![dir.clone()];
        spec.writable = vec![inner.clone()];
        let outcome = run(&spec).expect("runs");
        assert_eq!(
            String::from_utf8_lossy(&outcome.stdout),
            "inner\n",
            "{outcome:?}"
        );
        assert!(!dir.join("file").exists());
        assert!(inner.join("file").exists());
        std::fs::remove_dir_all(dir).expect("cleanup");
    }

    #[test]
    fn unsandboxed_runs_directly() {
        let mut spec = sh("cat /proc/net/dev | wc -l");
        spec.isolation = Isolation::None;
        let outcome = run(&spec).expect("runs");
        assert!(outcome.success());
    }
}
