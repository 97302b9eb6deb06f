//! Worktrees beside the validation worktree, for candidates proved side by side (`--jobs`).
//!
//! Each has its own checkout, private temp dir and cargo target dir: cargo locks a target dir for
//! the whole of a build, so two validations sharing one would take turns. A spare's target dir
//! starts as a copy of the main one (modification times kept, so cargo's fingerprints hold), made
//! under a temporary name and renamed into place: only the repository's own crates build cold,
//! and a copy cut short by a crash is never taken for a finished one.

use std::path::{Path, PathBuf};

use super::{ValidateError, Workspace};
use crate::git;

impl Workspace {
    /// Spare worktree `n` (from 1) beside this one, at this one's commit, with the targets this
    /// one chose on the base.
    pub fn spare(&self, n: usize) -> Result<Workspace, ValidateError> {
        let Some(home) = self.worktree.parent() else {
            return Err(ValidateError::Write {
                path: self.worktree.clone(),
                source: std::io::Error::other("the validation worktree has no parent directory"),
            });
        };
        let worktree = home.join(format!("worktree-{n}"));
        git::ensure_worktree(
            &self.repo_root,
            &worktree,
            &format!("nova-validate-{n}"),
            self.head,
        )?;
        let tmp_dir = home.join(format!("tmp-{n}"));
        // nova:allow(ignored-result): whatever an earlier run's tests left there goes
        let _ = std::fs::remove_dir_all(&tmp_dir);
        std::fs::create_dir_all(tmp_dir.join("home")).map_err(|source| ValidateError::Write {
            path: tmp_dir.clone(),
            source,
        })?;
        let target_dir = self.target_dir.with_file_name(format!("target-{n}"));
        if !target_dir.is_dir() {
            copy_target(&self.target_dir, &target_dir)?;
        }
        Ok(Workspace {
            repo_root: self.repo_root.clone(),
            worktree,
            target_dir,
            tmp_dir,
            options: self.options.clone(),
            head: self.head,
            sandbox: self.sandbox.clone(),
            targets: self.targets,
            cap_lints: self.cap_lints,
            clippy_groups: self.clippy_groups.clone(),
        })
    }

    /// The commit the worktree is at, patches aside.
    pub fn head(&self) -> git::Oid {
        self.head
    }
}

/// `from` copied to `to` with its files' times, by way of `<to>.partial`; an empty `to` when the
/// copy fails (its builds are then cold, not wrong).
fn copy_target(from: &Path, to: &Path) -> Result<(), ValidateError> {
    let partial = PathBuf::from(format!("{}.partial", to.display()));
    // nova:allow(ignored-result): a copy an earlier run left unfinished goes
    let _ = std::fs::remove_dir_all(&partial);
    let written = match copy_tree(from, &partial) {
        Ok(()) => std::fs::rename(&partial, to),
        Err(_) => {
            // nova:allow(ignored-result): a copy cut short is no use to anyone
            let _ = std::fs::remove_dir_all(&partial);
            std::fs::create_dir_all(to)
        }
    };
    written.map_err(|source| ValidateError::Write {
        path: to.to_owned(),
        source,
    })
}

/// Copies the tree at `from` to `to` (which must not exist): directories, files with their
/// modification times and permissions, symbolic links as links.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let (source, dest) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&source, &dest)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&source)?, &dest)?;
        } else {
            std::fs::copy(&source, &dest)?;
            let modified = entry.metadata()?.modified()?;
            std::fs::File::options()
                .write(true)
                .open(&dest)?
                .set_modified(modified)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_copy_keeps_times_and_lands_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let from = dir.path().join("target");
        std::fs::create_dir_all(from.join("debug/.fingerprint")).expect("mkdir");
        let file = from.join("debug/.fingerprint/dep");
        std::fs::write(&file, "fresh").expect("write");
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        std::fs::File::options()
            .write(true)
            .open(&file)
            .and_then(|f| f.set_modified(old))
            .expect("set the time");
        let to = dir.path().join("target-1");
        copy_target(&from, &to).expect("copy");
        let copied = to.join("debug/.fingerprint/dep");
        assert_eq!(std::fs::read_to_string(&copied).expect("read"), "fresh");
        let modified = std::fs::metadata(&copied)
            .and_then(|m| m.modified())
            .expect("time");
        assert_eq!(modified, old, "cargo's fingerprints compare times");
        assert!(!dir.path().join("target-1.partial").exists());
    }
}
