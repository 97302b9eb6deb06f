//! Nova's state directory, `.nova/` at the repository root: what lives there, and the
//! `.gitignore` that keeps it out of `git status`.
//!
//! Owns: the layout of `.nova/` (run archive, validation target dir, index cache,
//! the repository's own agents and config), its `.gitignore`, and the lock a run holds on it.
//! Never: writes outside `.nova/`.

use std::path::{Path, PathBuf};

/// Where Nova keeps its state inside a repository.
pub const STATE_DIR: &str = ".nova";

/// `.nova/.gitignore` as `nova init` writes it, to be committed: run state (archive, worktree,
/// target dir) is never committed; the repository's own agents and config are.
pub const STATE_GITIGNORE: &str = "\
# Nova's run state (run archive, event logs, index cache, validation worktree): never commit it.
# The repository's own agents and config are kept.
*
!.gitignore
!config.toml
!agents/
!agents/**
";

/// `.nova/.gitignore` as Nova writes it when it first needs `.nova/` when there is none: the same rules, but it ignores itself
/// too, so that a run leaves `git status` exactly as it was.
const RUN_GITIGNORE: &str = "\
# Written by Nova so that its run state stays out of `git status`; `nova init` keeps it as it is.
*
!config.toml
!agents/
!agents/**
";

/// Creates `.nova/` under `repo_root` if needed and, when it has no `.gitignore`, gives it one
/// that ignores everything Nova writes there. Returns the directory.
pub fn prepare(repo_root: &Path) -> Result<PathBuf, (PathBuf, std::io::Error)> {
    let state = repo_root.join(STATE_DIR);
    std::fs::create_dir_all(&state).map_err(|e| (state.clone(), e))?;
    let gitignore = state.join(".gitignore");
    if !gitignore.exists() {
        std::fs::write(&gitignore, RUN_GITIGNORE).map_err(|e| (gitignore, e))?;
    }
    Ok(state)
}

/// Held while a run uses `.nova/` (its worktree and target dir): a second run in the same
/// repository waits for nobody and refuses instead. Released when dropped; a lock left by a
/// process that no longer exists is taken over.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another Nova run (process {0}) is using this repository's `.nova/`; wait for it to finish, \
         or stop it"
    )]
    Busy(u32),
    #[error("cannot take `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Lock {
    pub fn acquire(repo_root: &Path) -> Result<Lock, LockError> {
        let state = prepare(repo_root).map_err(|(path, source)| LockError::Io { path, source })?;
        let path = state.join("lock");
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    use std::io::Write;
                    let _ = write!(file, "{}", std::process::id());
                    return Ok(Lock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|t| t.trim().parse::<u32>().ok());
                    match holder {
                        Some(pid) if Path::new(&format!("/proc/{pid}")).exists() => {
                            return Err(LockError::Busy(pid));
                        }
                        // Its process is gone (or it was never written): stale.
                        _ => {
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                }
                Err(source) => return Err(LockError::Io { path, source }),
            }
        }
        Err(LockError::Io {
            path,
            source: std::io::Error::other("the lock kept reappearing"),
        })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_run_at_a_time_and_stale_locks_are_taken_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lock = Lock::acquire(dir.path()).expect("free");
        let busy = Lock::acquire(dir.path()).expect_err("held");
        assert!(matches!(busy, LockError::Busy(pid) if pid == std::process::id()));
        drop(lock);
        // A lock whose process is gone.
        std::fs::write(dir.path().join(".nova/lock"), "999999999").expect("write");
        let taken = Lock::acquire(dir.path()).expect("stale lock taken over");
        drop(taken);
        assert!(!dir.path().join(".nova/lock").exists());
    }
}
