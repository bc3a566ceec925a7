//! The steps, each as the list of what it does: announce, run its commands
//! (`commands`), judge what they returned (`verify`), record.

use camino::Utf8Path;

use super::commands::read_export;
use super::commands::{Ended, Ran};
use super::{Engine, Running, short};
use crate::digest::{self, Follower};
use crate::error::{Class, Failure};
use crate::hints;
use crate::plan::{BASE_DIGEST_PLACEHOLDER, PackPlan};
use crate::report::{PackStatus, Status};
use crate::tools::tar;
use crate::verify::{self, Existing, ExpectedLayer, Layer, ReadBack};

/// Where the archive's digest comes from: hashed while tar wrote it, or
/// hashed from a carried-in file in the background while the run goes on.
pub(super) enum Hashing {
    Following(Follower),
    Thread(std::thread::JoinHandle<std::io::Result<(String, u64)>>),
    Done(std::io::Result<(String, u64)>),
}

impl Hashing {
    fn finish(self) -> std::io::Result<(String, u64)> {
        match self {
            Hashing::Following(follower) => follower.finish(),
            Hashing::Thread(thread) => thread
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the hashing thread panicked"))),
            Hashing::Done(result) => result,
        }
    }
}

/// A pack pushed (or found up to date) and verified.
pub(super) struct Pushed {
    pub status: PackStatus,
    pub manifest_digest: String,
    pub layer: Layer,
}

/// A pack that failed, with its manifest digest when the push itself worked.
pub(super) struct PackFailed {
    pub failure: Failure,
    pub manifest_digest: Option<String>,
}

impl From<Failure> for PackFailed {
    fn from(failure: Failure) -> Self {
        PackFailed {
            failure,
            manifest_digest: None,
        }
    }
}

/// The local archive, as the registry must hold it.
struct Archive {
    digest: String,
    size: u64,
    title: String,
}

impl Archive {
    fn expected(&self) -> ExpectedLayer<'_> {
        ExpectedLayer {
            title: &self.title,
            digest: &self.digest,
            size: self.size,
        }
    }
}

impl Engine<'_> {
    /// Step 1, once.
    pub(super) fn login(&self) -> Result<(), Failure> {
        let login = &self.plan.login;
        let mut run = self.begin(None, &login.step);
        let Some(command) = &login.login else {
            self.end(run, Status::Skipped, login.step.skipped.clone());
            return Ok(());
        };
        let result = self.exec(&mut run, command);
        self.close(run, result, |_| None).map(|_| ())
    }

    /// Step 2 for one pack: tar (refusing to overwrite), or the carried-in
    /// archive. Hashing overlaps tar's writing.
    pub(super) fn archive(&self, pack: &PackPlan) -> Result<Hashing, Failure> {
        let step = &pack.archive_step.step;
        let mut run = self.begin(Some(pack), step);
        let Some(tar) = &pack.archive_step.tar else {
            self.end(run, Status::Skipped, step.skipped.clone());
            let path = pack.archive.clone();
            return Ok(Hashing::Thread(std::thread::spawn(move || {
                digest::of_file(&path)
            })));
        };
        // Claim the name first (O_EXCL): a file that appeared since the
        // preflight is never overwritten, and a partial archive is ours to remove.
        if let Err(e) = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&pack.archive)
        {
            let failure = Failure::new(
                Class::Archive,
                format!(
                    "step {} ({}): cannot create {}: {e}",
                    step.number, step.purpose, pack.archive
                ),
            )
            .hint("packpush never overwrites a file: move it away, or pass another --output-dir");
            return Err(self.fail(run, failure));
        }
        let follower = Follower::start(&pack.archive);
        let result = self
            .exec(&mut run, tar)
            .and_then(|_| check_gzip_output(pack, tar));
        match (self.close(run, result, |_| None), follower) {
            (Ok(()), Ok(follower)) => Ok(Hashing::Following(follower)),
            (Ok(()), Err(e)) => Ok(Hashing::Done(Err(e))),
            (Err(failure), follower) => {
                if let Ok(follower) = follower {
                    let _ = follower.finish();
                }
                let _ = std::fs::remove_file(&pack.archive);
                Err(failure.detail(format!("the partial archive {} was removed", pack.archive)))
            }
        }
    }

    /// Step 3, once: the empty base-path artifact. Returns its digest.
    pub(super) fn push_base(&self) -> Result<String, Failure> {
        let base = &self.plan.base;
        let mut run = self.begin(None, &base.step);
        let result = self
            .exec(&mut run, &base.push)
            .and_then(|_| read_export(&base.manifest, &base.step))
            .map(|bytes| digest::of_bytes(&bytes));
        self.close(run, result, |d| Some(format!("base path {}", short(d))))
    }

    /// Steps 4 and 5 for one pack.
    pub(super) fn push_and_verify(
        &self,
        pack: &PackPlan,
        hashing: Hashing,
        base_digest: &str,
    ) -> Result<Pushed, PackFailed> {
        let (status, manifest_digest, archive) = self.push_pack(pack, hashing)?;
        let layer = self
            .verify(pack, &manifest_digest, base_digest, &archive)
            .map_err(|failure| PackFailed {
                failure,
                manifest_digest: Some(manifest_digest.clone()),
            })?;
        Ok(Pushed {
            status,
            manifest_digest,
            layer,
        })
    }

    /// Step 4: the look-up, then the push unless the registry holds this
    /// very pack already (or holds another one under the tag, and
    /// `--overwrite` was not given).
    fn push_pack(
        &self,
        pack: &PackPlan,
        hashing: Hashing,
    ) -> Result<(PackStatus, String, Archive), PackFailed> {
        let push = &pack.push;
        let mut run = self.begin(Some(pack), &push.step);
        let held = match self.held_version(&mut run, pack) {
            Ok(held) => held,
            Err(failure) => return Err(self.fail(run, failure).into()),
        };
        let (digest, size) = hashing.finish().map_err(|e| {
            Failure::new(
                Class::Archive,
                format!("cannot read the archive {}: {e}", pack.archive),
            )
        })?;
        let archive = Archive {
            digest,
            size,
            title: pack.target.archive_name(),
        };
        let existing = verify::judge_existing(held.as_deref(), &archive.expected());
        if let Existing::Identical { digest, .. } = &existing {
            let note = format!("already up to date ({}); nothing pushed", short(digest));
            self.end(run, Status::Skipped, Some(note));
            return Ok((PackStatus::UpToDate, digest.clone(), archive));
        }
        if let Some(refusal) = existing.refusal().filter(|_| !self.settings.overwrite) {
            let failure = Failure::new(
                Class::Push,
                format!(
                    "step {} ({}): the registry {}: {}",
                    push.step.number,
                    push.step.purpose,
                    refusal.what,
                    pack.target.pack_reference()
                ),
            )
            .detail(format!(
                "registry layer: {}",
                existing.registry_layer().unwrap_or("none")
            ))
            .detail(format!("local archive: {}", archive.digest))
            .detail("nothing was pushed for this pack")
            .hint(refusal.hint);
            self.end(run, Status::Failed, Some(refusal.note.into()));
            return Err(failure.into());
        }
        // Before a push is tried again, the tag is looked up again: a push
        // whose answer was lost may have landed.
        let recheck = |run: &mut Running<'_>| -> Result<Option<Vec<u8>>, Failure> {
            let held = self.held_version(run, pack)?;
            let existing = verify::judge_existing(held.as_deref(), &archive.expected());
            Ok(held.filter(|_| matches!(existing, Existing::Identical { .. })))
        };
        let result = self
            .exec_rechecked(&mut run, &push.push, Some(&recheck))
            .and_then(|ran| match ran {
                Ran::Outcome(_) => read_export(&push.manifest, &push.step),
                Ran::AlreadyDone(held) => Ok(held),
            })
            .map(|bytes| digest::of_bytes(&bytes));
        let digest = self.close(run, result, |d| Some(short(d)))?;
        Ok((PackStatus::Pushed, digest, archive))
    }

    /// The manifest the registry holds under the pack's tag, or `None` when
    /// it says there is none.
    fn held_version(
        &self,
        run: &mut Running<'_>,
        pack: &PackPlan,
    ) -> Result<Option<Vec<u8>>, Failure> {
        let lookup = &pack.push.lookup;
        let outcome = self.look_up(run, lookup)?;
        if outcome.exit.success() {
            return Ok(Some(outcome.stdout));
        }
        if hints::says_not_found(&String::from_utf8_lossy(&outcome.stderr)) {
            return Ok(None);
        }
        Err(self.failure(run.step, lookup, Ended::Exited(&outcome)))
    }

    /// Step 5: the pack's manifest read back (and the base path's, by the
    /// first pack that gets here: the others wait for it), judged.
    fn verify(
        &self,
        pack: &PackPlan,
        manifest_digest: &str,
        base_digest: &str,
        archive: &Archive,
    ) -> Result<Layer, Failure> {
        let step = &pack.verify.step;
        let mut run = self.begin(Some(pack), step);
        let read = self
            .exec(&mut run, &pack.verify.fetch)
            .and_then(|pack_out| {
                let base = self.read_base_once(&mut run, base_digest)?;
                Ok((pack_out.stdout, base))
            });
        let judged = read.and_then(|(pack_manifest, base_manifest)| {
            let read_back = ReadBack {
                pack_manifest: &pack_manifest,
                pushed_digest: manifest_digest,
                version: &pack.target.version,
                expected: archive.expected(),
                base_manifest: base_manifest.as_deref(),
            };
            verify::judge_readback(&read_back).map_err(|problems| {
                let mut failure = Failure::new(
                    Class::Verify,
                    format!(
                        "step {} ({}): the registry does not hold what Palette expects",
                        step.number, step.purpose
                    ),
                );
                for problem in problems {
                    failure = failure.detail(problem);
                }
                failure.hint(
                    "a version pushed earlier by ORAS newer than 1.0.0 without --image-spec v1.0 has the wrong shape: \
                     push it again with --overwrite; another push to the same tag at the same time also causes this",
                )
            })
        });
        self.close(run, judged, |_| {
            Some("manifest shape, layer digest, size and title match".into())
        })
    }

    /// The base path's manifest, read back once a run: by the first pack to
    /// ask, until one read-back has the right shape.
    fn read_base_once(
        &self,
        run: &mut Running<'_>,
        base_digest: &str,
    ) -> Result<Option<Vec<u8>>, Failure> {
        let mut verified = self.base_verified.lock().expect("base flag");
        if *verified {
            return Ok(None);
        }
        let command = self
            .plan
            .base_readback
            .filled(BASE_DIGEST_PLACEHOLDER, base_digest);
        let out = self.exec(run, &command)?;
        *verified = verify::check_base(&out.stdout).is_ok();
        Ok(Some(out.stdout))
    }
}

/// tar said it succeeded: the archive must exist and be gzip output.
fn check_gzip_output(pack: &PackPlan, tar: &crate::process::Command) -> Result<(), Failure> {
    let step = &pack.archive_step.step;
    let archive: &Utf8Path = &pack.archive;
    let mut head = [0u8; 2];
    let read =
        std::fs::File::open(archive).and_then(|mut f| std::io::Read::read(&mut f, &mut head));
    match read {
        Ok(2) if tar::looks_like_gzip(&head) => Ok(()),
        Ok(_) => Err(Failure::new(
            Class::Archive,
            format!(
                "step {} ({}): tar exited 0 but {archive} is not a gzip archive",
                step.number, step.purpose
            ),
        )
        .detail(format!("command: {}", tar.shell_line(true)))
        .hint(
            "--tar (PACKPUSH_TAR) must be GNU tar or bsdtar; check that the program is a real tar",
        )),
        Err(e) => Err(Failure::new(
            Class::Archive,
            format!(
                "step {} ({}): tar exited 0 but {archive} cannot be read: {e}",
                step.number, step.purpose
            ),
        )),
    }
}
