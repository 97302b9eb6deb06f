//! A hermetic environment for running the `nova` binary: temp HOME and XDG directories, a cleared
//! environment, git repositories built by code, and output with temp paths filtered out.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// What one run of `nova` did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout and stderr together, for snapshots that care about both.
    pub fn both(&self) -> String {
        format!(
            "[exit {}]\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A temp directory holding a home, a config dir and work space, gone when dropped.
pub struct TestEnv {
    dir: TempDir,
    vars: Vec<(String, String)>,
}

impl TestEnv {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("nova-it-")
            .tempdir()
            .expect("tempdir");
        for sub in ["home", "xdg", "work", "tmp"] {
            std::fs::create_dir(dir.path().join(sub)).expect("mkdir");
        }
        TestEnv {
            dir,
            vars: Vec::new(),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    /// The user's Nova config directory (`$XDG_CONFIG_HOME/nova`).
    pub fn user_config_dir(&self) -> PathBuf {
        self.root().join("xdg").join("nova")
    }

    /// A directory that is not inside any git repository.
    pub fn outside(&self) -> PathBuf {
        self.root().join("work")
    }

    /// Sets an environment variable for every later run.
    pub fn set_var(&mut self, name: &str, value: &str) {
        self.vars.push((name.to_owned(), value.to_owned()));
    }

    /// A new git repository with one commit, at `work/<name>`.
    pub fn repo(&self, name: &str) -> PathBuf {
        self.repo_with(name, &[("README.md", "# test\n")])
    }

    /// A new git repository at `work/<name>` whose first commit holds `files`.
    pub fn repo_with(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let path = self.outside().join(name);
        let repo = git2::Repository::init(&path).expect("git init");
        for (file, text) in files {
            write(&path, file, text);
        }
        let mut index = repo.index().expect("index");
        for (file, _) in files {
            index.add_path(Path::new(file)).expect("add");
        }
        index.write().expect("write index");
        let tree = repo
            .find_tree(index.write_tree().expect("write tree"))
            .expect("tree");
        let sig =
            git2::Signature::new("Test", "test@example.com", &git2::Time::new(0, 0)).expect("sig");
        repo.commit(Some("HEAD"), &sig, &sig, "initial", &tree, &[])
            .expect("commit");
        path
    }

    /// The `nova` command with `args` in `cwd`, in a cleared environment, not yet started.
    #[expect(clippy::disallowed_methods, reason = "the tests run the nova binary")]
    pub fn nova_command<I, S>(&self, cwd: &Path, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::new(env!("CARGO_BIN_EXE_nova"));
        command
            .args(args)
            .current_dir(cwd)
            .env_clear()
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.root().join("xdg"))
            .envs(toolchain_env())
            .env("TMPDIR", self.root().join("tmp"))
            .envs(self.vars.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Runs `nova` with `args` in `cwd`, in a cleared environment.
    pub fn nova_in<I, S>(&self, cwd: &Path, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let output = self.nova_command(cwd, args).output().expect("run nova");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: self.filter(&String::from_utf8_lossy(&output.stdout)),
            stderr: self.filter(&String::from_utf8_lossy(&output.stderr)),
        }
    }

    /// Runs `nova` with `args` in `cwd`, with `input` on its standard input.
    pub fn nova_with_input<I, S>(&self, cwd: &Path, args: I, input: &str) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        use std::io::Write;
        let mut child = self
            .nova_command(cwd, args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run nova");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        let output = child.wait_with_output().expect("wait for nova");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: self.filter(&String::from_utf8_lossy(&output.stdout)),
            stderr: self.filter(&String::from_utf8_lossy(&output.stderr)),
        }
    }

    /// Runs `nova` outside any repository.
    pub fn nova<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.nova_in(&self.outside(), args)
    }

    /// Replaces this environment's temp paths with `[TMP]`.
    fn filter(&self, text: &str) -> String {
        let root = self.root().to_string_lossy().into_owned();
        let canonical = self
            .root()
            .canonicalize()
            .map(|p| p.to_string_lossy().into_owned());
        let mut text = text.replace(&root, "[TMP]");
        if let Ok(canonical) = canonical {
            text = text.replace(&canonical, "[TMP]");
        }
        text
    }
}

/// Writes `text` at `dir/relative`, creating directories.
pub fn write(dir: &Path, relative: &str, text: &str) {
    let path = dir.join(relative);
    std::fs::create_dir_all(path.parent().expect("a file has a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// Nova's own source tree.
pub fn source_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What cargo needs to find the toolchain from inside the hermetic environment: the test runner's
/// own `PATH`, rustup and cargo homes (the fixtures have no dependencies, so nothing downloads).
#[expect(
    clippy::disallowed_methods,
    reason = "tests pass the toolchain through to nova"
)]
pub fn toolchain_env() -> Vec<(String, String)> {
    let home = std::env::var("HOME").unwrap_or_default();
    let mut vars = vec![
        (
            "PATH".to_owned(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
        ),
        (
            "RUSTUP_HOME".to_owned(),
            std::env::var("RUSTUP_HOME").unwrap_or_else(|_| format!("{home}/.rustup")),
        ),
        (
            "CARGO_HOME".to_owned(),
            std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{home}/.cargo")),
        ),
    ];
    if let Ok(toolchain) = std::env::var("RUSTUP_TOOLCHAIN") {
        vars.push(("RUSTUP_TOOLCHAIN".to_owned(), toolchain));
    }
    // Compilers and linkers need a writable temp dir; inside Nova's own sandbox, /tmp is not one.
    vars.push((
        "TMPDIR".to_owned(),
        std::env::temp_dir().to_string_lossy().into_owned(),
    ));
    vars
}

/// The commit `HEAD` of `repo` points at.
pub fn head_of(repo: &Path) -> git2::Oid {
    git2::Repository::open(repo)
        .expect("open")
        .head()
        .expect("head")
        .peel_to_commit()
        .expect("commit")
        .id()
}

/// Validation options for library-level tests: sandboxed, this environment's home and temp dir,
/// the test runner's toolchain, and `limits`.
pub fn validation_options(
    env: &TestEnv,
    step_timeout: std::time::Duration,
    limits: nova_sandbox::Limits,
) -> nova::validate::Options {
    let vars = toolchain_env();
    let find = |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let toolchain = nova::config::ToolchainDirs {
        cargo_home: find("CARGO_HOME").map(PathBuf::from),
        rustup_home: find("RUSTUP_HOME").map(PathBuf::from),
        path: find("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default(),
    };
    let tmp = env.root().join("tmp");
    std::fs::create_dir_all(&tmp).expect("tmp");
    let mut with_home = vars.clone();
    with_home.push(("HOME".into(), env.home().to_string_lossy().into_owned()));
    nova::validate::Options {
        isolation: nova_sandbox::Isolation::Sandbox,
        env: with_home,
        step_timeout,
        temp_root: tmp,
        toolchain,
        limits,
        network: false,
        observer: None,
        tests: nova::validate::TestPolicy {
            flaky_reruns: nova::config::DEFAULT_FLAKY_RERUNS,
            ..nova::validate::TestPolicy::default()
        },
    }
}

/// The local branches of `repo`, sorted.
pub fn branches(repo: &Path) -> Vec<String> {
    let git = git2::Repository::open(repo).expect("open");
    let mut names: Vec<String> = git
        .branches(Some(git2::BranchType::Local))
        .expect("branches")
        .map(|b| {
            b.expect("branch")
                .0
                .name()
                .expect("name")
                .expect("utf-8")
                .to_owned()
        })
        .collect();
    names.sort();
    names
}

/// Every file under `dir`, keyed by its path relative to `dir`, with its bytes. `skip` names
/// relative paths (files or whole directories) to leave out.
pub fn files_under(dir: &Path, skip: &[&str]) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("entry").path();
            let relative = path.strip_prefix(dir).expect("inside").to_owned();
            if skip.iter().any(|s| relative.starts_with(s)) {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.insert(relative, bytes);
            }
        }
    }
    out
}

/// A small deterministic generator (xorshift64*), so that randomized tests repeat exactly.
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1) as u64) as usize
    }
}

/// Says that the calling test skips (all of it, or the part `what` names) because something this
/// machine lacks is missing: on stderr, past libtest's capture, so that it shows in every run;
/// counted in the file `$NOVA_SKIP_LOG` names, when set (`.ci/run` sums the skips). Under
/// `CI=true` a skip is a failure, unless `NOVA_ALLOW_SKIPS` lists the test: CI machines have
/// every tool the suite uses.
#[track_caller]
#[expect(
    clippy::disallowed_methods,
    reason = "a test's skip depends on where it runs: CI or not"
)]
pub fn skip(what: &str, why: &str) {
    use std::io::Write as _;
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let line = format!("skipped: {test}: {what}: {why}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Ok(log) = std::env::var("NOVA_SKIP_LOG") {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log);
        if let Ok(mut file) = file {
            let _ = file.write_all(line.as_bytes());
        }
    }
    let allowed = std::env::var("NOVA_ALLOW_SKIPS")
        .unwrap_or_default()
        .split(',')
        .any(|name| !name.is_empty() && test.ends_with(name.trim()));
    if std::env::var("CI").is_ok_and(|ci| ci == "true") && !allowed {
        panic!(
            "{test} skipped in CI ({what}: {why}); install what it needs, or list it in NOVA_ALLOW_SKIPS"
        );
    }
}

/// The commits `branch` of `repo` has over `HEAD`, oldest first; none when there is no such
/// branch.
pub fn branch_log(repo: &Path, branch: &str) -> Vec<git2::Oid> {
    let git = git2::Repository::open(repo).expect("open");
    let Ok(found) = git.find_branch(branch, git2::BranchType::Local) else {
        return Vec::new();
    };
    let tip = found.get().peel_to_commit().expect("tip").id();
    let head = git.head().expect("head").peel_to_commit().expect("commit");
    let mut walk = git.revwalk().expect("revwalk");
    walk.push(tip).expect("push");
    walk.hide(head.id()).expect("hide");
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
        .expect("sort");
    walk.map(|oid| oid.expect("oid")).collect()
}

/// The text of `path` at the tip of `branch` of `repo`.
/// The messages of the commits on `branch` after `HEAD`, oldest first.
pub fn branch_messages(repo: &Path, branch: &str) -> Vec<String> {
    let git = git2::Repository::open(repo).expect("open");
    branch_log(repo, branch)
        .into_iter()
        .map(|oid| {
            let commit = git.find_commit(oid).expect("commit");
            commit.message().unwrap_or_default().to_owned()
        })
        .collect()
}

pub fn branch_file(repo: &Path, branch: &str, path: &str) -> String {
    let git = git2::Repository::open(repo).expect("open");
    let tree = git
        .find_branch(branch, git2::BranchType::Local)
        .expect("branch")
        .get()
        .peel_to_tree()
        .expect("tree");
    let blob = tree
        .get_path(Path::new(path))
        .expect("path")
        .to_object(&git)
        .expect("object");
    String::from_utf8(blob.as_blob().expect("blob").content().to_vec()).expect("utf-8")
}
