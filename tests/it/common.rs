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
        for sub in ["home", "xdg", "work"] {
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
        let path = self.outside().join(name);
        let repo = git2::Repository::init(&path).expect("git init");
        std::fs::write(path.join("README.md"), "# test\n").expect("write");
        let mut index = repo.index().expect("index");
        index.add_path(Path::new("README.md")).expect("add");
        let tree = repo
            .find_tree(index.write_tree().expect("write tree"))
            .expect("tree");
        let sig =
            git2::Signature::new("Test", "test@example.com", &git2::Time::new(0, 0)).expect("sig");
        repo.commit(Some("HEAD"), &sig, &sig, "initial", &tree, &[])
            .expect("commit");
        path
    }

    /// Runs `nova` with `args` in `cwd`, in a cleared environment.
    #[expect(clippy::disallowed_methods, reason = "the tests run the nova binary")]
    pub fn nova_in<I, S>(&self, cwd: &Path, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let output = Command::new(env!("CARGO_BIN_EXE_nova"))
            .args(args)
            .current_dir(cwd)
            .env_clear()
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.root().join("xdg"))
            .env("PATH", "/usr/bin:/bin")
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("run nova");
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
