//! The run's private folder (mode 0700) for the login and the exported
//! manifests. It holds a note of the run that made it, so that a later run
//! can tell a folder whose run is over (killed with SIGKILL, by the OOM
//! killer or a CI runner's hard stop, before it could remove it) from one a
//! run still uses, and remove the former: it may hold a credential.

use std::path::{Path, PathBuf};

use camino::{Utf8Path, Utf8PathBuf};
use tempfile::TempDir;

use crate::error::Failure;
use crate::fsutil;

/// How the folders' names start.
const PREFIX: &str = "packpush-";
/// The note of the run, inside the folder.
const NOTE: &str = ".packpush-run";

/// A private folder of an earlier run, removed because that run is over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Swept {
    pub path: PathBuf,
    /// The process that made it.
    pub pid: u32,
}

/// Removes the private folders that runs of this user left behind in the
/// temporary folder, then makes this run's own.
pub fn create() -> Result<(TempDir, Utf8PathBuf, Vec<Swept>), Failure> {
    let swept = sweep(&std::env::temp_dir());
    let (dir, path) = fsutil::private_dir(PREFIX, "a private temporary folder")?;
    fsutil::create_private_file(&path.join(NOTE), this_run().as_bytes())?;
    Ok((dir, path, swept))
}

/// What identifies this run: its process, when it started, and the boot.
fn this_run() -> String {
    let pid = std::process::id();
    format!(
        "pid {pid}\nstarted {}\nboot {}\n",
        started(pid).unwrap_or_default(),
        boot_id().unwrap_or_default()
    )
}

/// When a process started, in clock ticks since boot (field 22 of its stat
/// line); `None` when there is no such process.
fn started(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|id| id.trim().to_string())
}

/// Removes the folders under `tmp` that a run of this user made and that no
/// running process uses any more.
pub fn sweep(tmp: &Path) -> Vec<Swept> {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return Vec::new();
    };
    let mut swept = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let named = entry.file_name().to_string_lossy().starts_with(PREFIX);
        if let Some(pid) = named.then(|| finished_run(&path)).flatten()
            && std::fs::remove_dir_all(&path).is_ok()
        {
            swept.push(Swept { path, pid });
        }
    }
    swept.sort_by(|a, b| a.path.cmp(&b.path));
    swept
}

/// The pid of the run that made `folder`, when the folder is this user's
/// private folder of a run that is over.
fn finished_run(folder: &Path) -> Option<u32> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let me = rustix::process::getuid().as_raw();
    let meta = std::fs::symlink_metadata(folder).ok()?;
    let private = meta.is_dir() && meta.uid() == me && meta.permissions().mode() & 0o077 == 0;
    let note_path = folder.join(NOTE);
    let note_meta = std::fs::symlink_metadata(&note_path).ok()?;
    if !private || !note_meta.is_file() || note_meta.uid() != me {
        return None;
    }
    let note = std::fs::read_to_string(&note_path).ok()?;
    let field = |name: &str| {
        note.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .map(str::to_string)
    };
    let pid: u32 = field("pid")?.parse().ok()?;
    let same_boot = field("boot") == boot_id();
    let same_process = started(pid).map(|s| s.to_string()) == field("started");
    (!(same_boot && same_process)).then_some(pid)
}

/// What the run says about a folder it removed.
pub fn said(swept: &Swept) -> String {
    let path = Utf8Path::from_path(&swept.path)
        .map_or_else(|| swept.path.display().to_string(), |p| p.to_string());
    format!(
        "removed {path}, the private folder of an earlier run (process {}) that was stopped \
         before it could remove it (it may have held a login)",
        swept.pid
    )
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A private folder in `tmp` with `note`, as a run makes it.
    fn folder(tmp: &Path, name: &str, note: &str) -> PathBuf {
        let path = tmp.join(name);
        std::fs::create_dir(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::write(path.join(NOTE), note).unwrap();
        std::fs::write(path.join("registry-config.json"), "{\"auths\":{}}").unwrap();
        path
    }

    #[test]
    fn only_folders_of_finished_runs_are_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let boot = boot_id().unwrap();
        // A process that is gone: a child that has exited and was reaped.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let gone = child.id();
        child.wait().unwrap();
        let finished = folder(
            tmp.path(),
            "packpush-gone",
            &format!("pid {gone}\nstarted 1\nboot {boot}\n"),
        );
        // A pid that was reused by another process (another start time).
        let me = std::process::id();
        let reused = folder(
            tmp.path(),
            "packpush-reused",
            &format!("pid {me}\nstarted 1\nboot {boot}\n"),
        );
        // The folder of a run that is still going (this one).
        let running = folder(tmp.path(), "packpush-running", &this_run());
        // A run of an earlier boot.
        let rebooted = folder(
            tmp.path(),
            "packpush-rebooted",
            &format!("pid {me}\nstarted {}\nboot other\n", started(me).unwrap()),
        );
        // Not ours to judge: no note, another name, a folder others may enter.
        let no_note = tmp.path().join("packpush-archive-x");
        std::fs::create_dir(&no_note).unwrap();
        let other_name = folder(
            tmp.path(),
            "other-gone",
            &format!("pid {gone}\nstarted 1\nboot {boot}\n"),
        );
        let open = folder(
            tmp.path(),
            "packpush-open",
            &format!("pid {gone}\nstarted 1\nboot {boot}\n"),
        );
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();

        let swept = sweep(tmp.path());
        let paths: Vec<&Path> = swept.iter().map(|s| s.path.as_path()).collect();
        assert_eq!(
            paths,
            [finished.as_path(), rebooted.as_path(), reused.as_path()]
        );
        assert_eq!(swept[0].pid, gone);
        for kept in [&running, &no_note, &other_name, &open] {
            assert!(kept.exists(), "{}", kept.display());
        }
        for removed in [&finished, &reused, &rebooted] {
            assert!(!removed.exists(), "{}", removed.display());
        }
        assert!(said(&swept[0]).contains(&format!("process {gone}")));
    }
}
