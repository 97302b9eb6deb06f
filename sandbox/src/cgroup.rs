//! A pids cgroup per sandboxed command, for when `RLIMIT_NPROC` does not hold: Linux never
//! enforces it for user id 0, and a sandbox started by root maps root inside to root outside.
//!
//! The cgroup is made in the pids controller's hierarchy (cgroup v1's `pids` mount, or v2 where
//! the `pids` controller is enabled for children), under the caller's own cgroup; the child joins
//! it before entering any namespace, so the whole tree is counted; it is removed after the run.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// One command's pids cgroup.
#[derive(Debug)]
pub struct PidsCgroup {
    dir: PathBuf,
    /// `<dir>/cgroup.procs`, for the child to write itself into.
    pub procs: CString,
}

/// Where new pids cgroups can be made: the caller's own cgroup in the pids hierarchy.
pub fn pids_parent() -> Result<PathBuf, String> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|error| format!("cannot read /proc/self/mountinfo: {error}"))?;
    let own = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(|error| format!("cannot read /proc/self/cgroup: {error}"))?;
    for line in mountinfo.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(dash) = fields.iter().position(|field| *field == "-") else {
            continue;
        };
        let (Some(mount_point), Some(fstype), Some(options)) =
            (fields.get(4), fields.get(dash + 1), fields.get(dash + 3))
        else {
            continue;
        };
        let relative = match *fstype {
            "cgroup" if options.split(',').any(|option| option == "pids") => {
                own.lines().find_map(|line| {
                    let mut parts = line.splitn(3, ':');
                    let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
                    controllers.split(',').any(|c| c == "pids").then_some(path)
                })
            }
            "cgroup2" => own.lines().find_map(|line| line.strip_prefix("0::")),
            _ => None,
        };
        let Some(relative) = relative else { continue };
        let dir = Path::new(mount_point).join(relative.trim_start_matches('/'));
        if *fstype == "cgroup2" {
            let enabled =
                std::fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap_or_default();
            if !enabled.split_whitespace().any(|c| c == "pids") {
                continue;
            }
        }
        return Ok(dir);
    }
    Err(String::from(
        "no pids cgroup controller is mounted for this process",
    ))
}

/// Where pids cgroups can be made, proved by making one: the hierarchy may be visible but not
/// writable (inside another sandbox, or without the right to write it).
pub fn usable_parent() -> Result<PathBuf, String> {
    let parent = pids_parent()?;
    PidsCgroup::create(1)?.remove().map_err(|error| {
        format!(
            "cannot remove a probe cgroup under `{}`: {error}",
            parent.display()
        )
    })?;
    Ok(parent)
}

impl PidsCgroup {
    /// Makes a fresh cgroup allowing at most `max` processes and threads.
    pub fn create(max: u64) -> Result<Self, String> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let parent = pids_parent()?;
        let name = format!(
            "nova-sandbox-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let dir = parent.join(name);
        std::fs::create_dir(&dir)
            .map_err(|error| format!("cannot create `{}`: {error}", dir.display()))?;
        let cgroup = PidsCgroup {
            procs: CString::new(dir.join("cgroup.procs").as_os_str().as_bytes())
                .map_err(|_| String::from("a cgroup path with a NUL byte"))?,
            dir,
        };
        std::fs::write(cgroup.dir.join("pids.max"), max.to_string())
            .map_err(|error| format!("cannot limit `{}`: {error}", cgroup.dir.display()))?;
        Ok(cgroup)
    }

    /// Whether a fork was refused because the cgroup was full.
    pub fn limit_was_hit(&self) -> bool {
        std::fs::read_to_string(self.dir.join("pids.events"))
            .ok()
            .and_then(|events| {
                events
                    .lines()
                    .find_map(|line| line.strip_prefix("max ")?.trim().parse::<u64>().ok())
            })
            .is_some_and(|count| count > 0)
    }

    /// Removes the cgroup once the processes the kernel is still tearing down have left it.
    pub fn remove(self) -> io::Result<()> {
        // nova:allow(ignored-result): killing is best effort: the removal below says what matters
        let _ = std::fs::write(self.dir.join("cgroup.kill"), "1");
        let mut last = Ok(());
        for _ in 0..1000 {
            last = std::fs::remove_dir(&self.dir);
            if last.is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        last
    }
}
