//! The run's temporary folders: a private one (mode 0700, see `workdir`) for
//! the login and the exported manifests, removed whatever happens (and by
//! the next run, when this one was killed); and, without
//! `--output-dir`, one for the archives, removed after success and kept
//! (with the archives worth keeping) after a failed push.

use tempfile::TempDir;

use crate::cli::PushArgs;
use crate::engine::RunOutcome;
use crate::error::{Class, Failure};
use crate::fsutil;
use crate::pack::Source;
use crate::plan::{Layout, Plan};
use crate::preflight::Ready;
use crate::workdir::{self, Swept};

/// The folders of one run.
#[derive(Debug)]
pub struct Workspace {
    work: TempDir,
    /// The archives' temporary folder (no `--output-dir`).
    output: Option<TempDir>,
    /// `--output-dir` was given.
    output_given: bool,
    layout: Layout,
    /// Private folders of earlier runs that were removed.
    pub swept: Vec<Swept>,
}

/// Which archives stay on disk after the run.
#[derive(Debug)]
pub struct Kept {
    /// Per pack: its archive is kept because its push failed.
    pub for_failure: Vec<bool>,
    /// Per pack: its archive is on disk after the run (kept, chosen with
    /// `--output-dir`, or carried in).
    pub archives: Vec<bool>,
}

impl Workspace {
    pub fn create(args: &PushArgs, ready: &Ready) -> Result<Workspace, Failure> {
        let (work, work_dir, swept) = workdir::create()?;
        ready.registry_config.prepare(&work_dir)?;
        let archives_folders = ready
            .packs
            .iter()
            .any(|p| matches!(p.source, Source::Folder(_)));
        let (output_dir, output) = match &args.output_dir {
            Some(dir) => {
                if archives_folders {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        Failure::new(
                            Class::Archive,
                            format!("cannot create the output folder {dir}: {e}"),
                        )
                        .hint("pass an --output-dir you can write to")
                    })?;
                }
                (fsutil::absolute(dir)?, None)
            }
            None => {
                let (dir, path) = fsutil::private_dir("packpush-archive-", "a temporary folder")?;
                (path, Some(dir))
            }
        };
        Ok(Workspace {
            work,
            output,
            output_given: args.output_dir.is_some(),
            layout: Layout {
                work_dir,
                output_dir,
                archives_kept: args.output_dir.is_some(),
            },
            swept,
        })
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// After the run: the login and the manifests go, whatever happened;
    /// archives stay where a push or verification failed (so the user has
    /// what was built), or where the user chose to keep them.
    pub fn finish(self, plan: &Plan, outcome: &RunOutcome) -> Kept {
        drop(self.work);
        let for_failure = keep_for_failure(outcome);
        if let Some(dir) = self.output
            && for_failure.iter().any(|k| *k)
        {
            for (pack, keep) in plan.packs.iter().zip(&for_failure) {
                if !keep && pack.archive_written {
                    let _ = std::fs::remove_file(&pack.archive);
                }
            }
            let _ = dir.keep();
        }
        let archives = plan
            .packs
            .iter()
            .zip(&outcome.packs)
            .zip(&for_failure)
            .map(|((pack, result), keep)| {
                !pack.archive_written || *keep || (self.output_given && result.archive_complete)
            })
            .collect();
        Kept {
            for_failure,
            archives,
        }
    }
}

/// The archives worth keeping after a failure: complete ones whose push or
/// verification failed, and every complete one when the base-path push (or
/// the verification of a pack) stopped the run after the archives were built.
fn keep_for_failure(outcome: &RunOutcome) -> Vec<bool> {
    let push_failed = |f: &Failure| matches!(f.class, Class::Push | Class::Verify);
    let base_failed = outcome.stopped.as_ref().is_some_and(push_failed);
    outcome
        .packs
        .iter()
        .map(|p| p.archive_complete && (base_failed || p.failure.as_ref().is_some_and(push_failed)))
        .collect()
}
