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

/// Held while a run uses `.nova/` (its validation worktree, target dir and base cache): an OS
/// lock (`flock`) on `.nova/lock`, so that it goes with the process that holds it, however that
/// process ends. The file holds the holder's process id, for messages.
#[derive(Debug)]
pub struct Lock {
    root: PathBuf,
    _file: std::fs::File,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another Nova run ({}) is using this repository's `.nova/`; wait for it (run without \
         `--no-wait`), or stop it",
        holder(*.0)
    )]
    Busy(Option<u32>),
    #[error("cannot take `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn holder(pid: Option<u32>) -> String {
    pid.map_or_else(
        || String::from("its process id not yet written"),
        |pid| format!("process {pid}"),
    )
}

/// Whether to wait for a lock another run holds.
pub enum Wait<'a> {
    /// Refuse at once (`--no-wait`).
    No,
    /// Wait until it is free, after telling `notice` which process holds it.
    Yes(&'a mut dyn FnMut(Option<u32>)),
}

impl std::fmt::Debug for Wait<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Wait::No => "Wait::No",
            Wait::Yes(_) => "Wait::Yes(..)",
        })
    }
}

impl Lock {
    /// Takes the lock of the repository at `repo_root`, waiting for it as `wait` says.
    pub fn acquire(repo_root: &Path, wait: Wait<'_>) -> Result<Lock, LockError> {
        use std::io::{Seek, Write};
        let state = prepare(repo_root).map_err(|(path, source)| LockError::Io { path, source })?;
        let path = state.join("lock");
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let pid = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|text| text.trim().parse::<u32>().ok());
                match wait {
                    Wait::No => return Err(LockError::Busy(pid)),
                    Wait::Yes(notice) => {
                        notice(pid);
                        file.lock().map_err(io)?;
                    }
                }
            }
            Err(std::fs::TryLockError::Error(error)) => return Err(io(error)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        write!(file, "{}", std::process::id()).map_err(io)?;
        Ok(Lock {
            root: repo_root.to_owned(),
            _file: file,
        })
    }

    /// The repository it locks.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_run_at_a_time_and_the_next_waits() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lock = Lock::acquire(dir.path(), Wait::No).expect("free");
        let busy = Lock::acquire(dir.path(), Wait::No).expect_err("held");
        assert!(matches!(busy, LockError::Busy(Some(pid)) if pid == std::process::id()));
        let root = dir.path().to_owned();
        let (told, heard) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let lock = Lock::acquire(&root, Wait::Yes(&mut |pid| told.send(pid).expect("send")));
            lock.map(drop)
        });
        // The waiter says who holds the lock before it blocks; it gets it once the lock goes.
        let holder = heard
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the waiter names the holder");
        assert_eq!(holder, Some(std::process::id()));
        drop(lock);
        waiter
            .join()
            .expect("waiter")
            .expect("the waiter got the lock");
        // A lock file left by a process that is gone is no lock at all.
        std::fs::write(dir.path().join(".nova/lock"), "999999999").expect("write");
        Lock::acquire(dir.path(), Wait::No).expect("a stale file is taken over");
    }
}
