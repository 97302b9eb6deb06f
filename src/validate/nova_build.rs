//! Another build of Nova at work: `nova bench run --nova BIN` has it answer a task in a scratch
//! repository, as a user would run `BIN ask`, while this build stays the evaluator. The build is
//! code under evaluation, so it runs in the sandbox like any repository code: it may change only
//! the scratch repository and a private directory (its home and temp dir), read only those, the
//! toolchain and its own executable (never the user's checkout, its `.git`, or the task set), and
//! reach the network only through a TCP connection to the model's port. Its own validations run
//! in sandboxes nested inside this one.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nova_sandbox::{Isolation, Spec};

use super::command::{Ran, ended};
use super::{Options, private_env, toolchain_read};

/// A build of Nova, and how it may reach the model.
#[derive(Debug, Clone)]
pub struct NovaBuild {
    /// The executable, absolute.
    pub program: PathBuf,
    /// How this run validates: the build runs under the same isolation, with the same toolchain
    /// and the same allowlist of variables.
    pub options: Options,
    /// The model's TCP port: the only one the build may connect to. `None`: no network at all.
    pub model_port: Option<u16>,
    /// Variables the build gets besides the allowlist (the model's key).
    pub env: Vec<(String, String)>,
    /// The longest one task's work may take; then the build is killed.
    pub timeout: Duration,
}

impl NovaBuild {
    /// Runs the build with `args` in `scratch`, with `private` as its home and temp dir (made
    /// here), and returns what it printed. `(read, write)`: what else it may read, and change
    /// (a recording of its exchanges with the model).
    pub fn run(
        &self,
        scratch: &Path,
        private: &Path,
        args: &[OsString],
        (read, write): (Vec<PathBuf>, Vec<PathBuf>),
    ) -> Result<Ran, String> {
        use std::os::unix::fs::DirBuilderExt;
        let home = private.join("home");
        let tmp = private.join("tmp");
        for dir in [private, &home, &tmp] {
            // Private to this user: the build's temp dir is not a shared one.
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|error| format!("cannot make `{}`: {error}", dir.display()))?;
        }
        let mut spec = Spec::new(&self.program, scratch).args(args.iter().cloned());
        spec.env = self.env(&home, &tmp);
        spec.isolation = self.options.isolation;
        spec.timeout = self.timeout;
        spec.limits = self.options.limits;
        // With `--allow-network`, the build's own builds and tests keep the network too; else it
        // keeps the host's network for one port.
        spec.network = self.options.network || self.model_port.is_some();
        if !self.options.network {
            spec.tcp_connect = self.model_port.into_iter().collect();
        }
        spec.write = vec![scratch.to_owned(), private.to_owned()];
        spec.write.extend(write);
        spec.read.push(self.program.clone());
        spec.read.extend(read);
        spec.read.extend(toolchain_read(&self.options.toolchain));
        let outcome = nova_sandbox::run(&spec).map_err(|error| error.to_string())?;
        Ok(ended(&outcome))
    }

    /// The allowlist, with a private home and temp dir, the toolchain's homes named, and the
    /// model's variables.
    fn env(&self, home: &Path, tmp: &Path) -> Vec<(OsString, OsString)> {
        let vars = self.options.env.iter().chain(&self.env);
        let mut env = private_env(vars, &self.options.toolchain, home, tmp);
        env.push(("NO_COLOR".into(), "1".into()));
        env
    }

    /// What the build may connect to, in words: `port 443`, or `nothing`.
    pub fn reach(&self) -> String {
        self.model_port
            .map_or_else(|| String::from("nothing"), |port| format!("port {port}"))
    }

    /// Whether the build runs without isolation (`--unsafe-no-sandbox`).
    pub fn unsandboxed(&self) -> bool {
        self.options.isolation == Isolation::None
    }
}
