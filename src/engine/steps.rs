//! The steps, each as the list of what it does: announce, run its commands
//! (`commands`), judge what they returned (`verify`), record.

use camino::{Utf8Path, Utf8PathBuf};

use super::commands::{Ended, Ran};
use super::commands::{in_step, read_export};
use super::recall::Recalled;
use super::{Engine, PackOutcome, Running, TagsRead, short};
use crate::cache;
use crate::digest::{self, Follower};
use crate::error::{Class, Failure};
use crate::hints;
use crate::plan::{BASE_DIGEST_PLACEHOLDER, PackPlan};
use crate::process::Command;
use crate::record::{Archived, PackStatus, Status};
use crate::tools::tar::looks_like_gzip;
use crate::verify::{self, Archiving, Existing, ExpectedLayer, KnownBeforeTar, Layer, ReadBack};

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

/// What step 2 came to for a pack.
pub(super) enum Prepared {
    /// The archive is ready (its digest perhaps still being computed):
    /// steps 3 to 5 follow.
    Archive {
        hashing: Hashing,
        archived: Archived,
    },
    /// The registry holds the archive this content gives: nothing follows.
    /// `digest`: the manifest's; `on_disk`: the archive is in
    /// `--output-dir`.
    UpToDate {
        digest: String,
        layer: Layer,
        on_disk: bool,
    },
}

impl Prepared {
    pub(super) fn needs_push(&self) -> bool {
        matches!(self, Prepared::Archive { .. })
    }

    /// Notes in the pack's outcome what step 2 came to.
    pub(super) fn record(&self, outcome: &mut PackOutcome) {
        match self {
            Prepared::Archive { archived, .. } => {
                outcome.archive_complete = true;
                outcome.archived = Some(*archived);
            }
            Prepared::UpToDate {
                digest,
                layer,
                on_disk,
            } => {
                outcome.status = PackStatus::UpToDate;
                outcome.manifest_digest = Some(digest.clone());
                outcome.layer = Some(layer.clone());
                outcome.archive_complete = *on_disk;
                outcome.archived = Some(if *on_disk {
                    Archived::Reused
                } else {
                    Archived::None
                });
            }
        }
    }
}

/// A pack pushed (or found up to date) and verified.
pub(super) struct Pushed {
    pub status: PackStatus,
    pub manifest_digest: String,
    pub layer: Layer,
    /// The manifest step 5 read back under the pack's tag.
    pub read_back: Vec<u8>,
    /// The repository's tags, read beside step 5.
    pub tags: Option<TagsRead>,
}

/// What step 5 found: the layer, and the manifest read back.
type Verified = (Layer, Vec<u8>);

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

    /// Step 2 for one pack: with what was known before (the cache, the
    /// look-up, an archive already in `--output-dir`), nothing to do, the
    /// archive on disk, or tar (refusing to overwrite); or the carried-in
    /// archive. Hashing overlaps tar's writing.
    pub(super) fn archive(&self, pack: &PackPlan, recalled: Recalled) -> Result<Prepared, Failure> {
        let step = &pack.archive_step.step;
        let mut run = self.begin(Some(pack), step);
        run.before = recalled.took;
        let Some(tar) = &pack.archive_step.tar else {
            self.end(run, Status::Skipped, step.skipped.clone());
            let path = pack.archive.clone();
            let hashing = Hashing::Thread(std::thread::spawn(move || digest::of_file(&path)));
            return Ok(Prepared::Archive {
                hashing,
                archived: Archived::CarriedIn,
            });
        };
        let held = recalled.attach(self, &mut run, pack);
        let on_disk = match self.on_disk(&run, pack) {
            Ok(on_disk) => on_disk,
            Err(failure) => return Err(self.fail(run, failure)),
        };
        let title = pack.target.archive_name();
        let known = KnownBeforeTar {
            cached: recalled.cached.as_ref().map(|c| ExpectedLayer {
                title: &title,
                digest: &c.digest,
                size: c.size,
            }),
            on_disk: on_disk.as_ref().map(|(d, s)| (d.as_str(), *s)),
            held: held.as_ref().map(Option::as_deref),
        };
        match verify::before_archiving(&known) {
            Archiving::UpToDate { digest, layer } => {
                let note = format!(
                    "up to date: the registry holds the archive this content gives ({}); tar did not run",
                    short(&layer.digest)
                );
                self.end(run, Status::Skipped, Some(note));
                recalled.used(self.cache.as_ref(), pack);
                let on_disk = on_disk.is_some();
                Ok(Prepared::UpToDate {
                    digest,
                    layer,
                    on_disk,
                })
            }
            Archiving::UseOnDisk => {
                let note = "the identical archive already in --output-dir is used; tar did not run";
                self.end(run, Status::Skipped, Some(note.into()));
                recalled.used(self.cache.as_ref(), pack);
                Ok(Prepared::Archive {
                    hashing: Hashing::Done(Ok(on_disk.unwrap_or_default())),
                    archived: Archived::Reused,
                })
            }
            Archiving::RefuseOnDisk => {
                let cached = recalled.cached.unwrap_or_default();
                let on_disk = on_disk.unwrap_or_default();
                Err(self.fail(run, refuse_on_disk(pack, &on_disk, &cached)))
            }
            Archiving::Build { compare } => {
                let on_disk = on_disk.filter(|_| compare);
                self.build(run, pack, tar, recalled, on_disk)
            }
        }
    }

    /// The archive already at the pack's archive path (`--output-dir`):
    /// its digest and size.
    fn on_disk(
        &self,
        run: &Running<'_>,
        pack: &PackPlan,
    ) -> Result<Option<(String, u64)>, Failure> {
        let Ok(meta) = pack.archive.symlink_metadata() else {
            return Ok(None);
        };
        let step = run.step;
        let read = if meta.is_file() {
            digest::of_file(&pack.archive)
        } else {
            Err(std::io::Error::other("it is not a regular file"))
        };
        read.map(Some).map_err(|e| {
            in_step(
                Class::Archive,
                step,
                format!("{} already exists and cannot be read: {e}", pack.archive),
            )
            .hint("packpush never overwrites a file: move it away, or pass another --output-dir")
        })
    }

    /// tar, into the archive's path, or beside an archive already there
    /// (then compared with it: the same bytes are used, others refused).
    /// The cache learns which archive this content gave.
    fn build(
        &self,
        mut run: Running<'_>,
        pack: &PackPlan,
        tar: &Command,
        mut recalled: Recalled,
        on_disk: Option<(String, u64)>,
    ) -> Result<Prepared, Failure> {
        let target = match on_disk {
            Some(_) => beside(&pack.archive),
            None => pack.archive.clone(),
        };
        let tar = tar.filled(pack.archive.as_str(), target.as_str());
        // A fingerprint not known yet (a version the cache never saw) is
        // computed while tar runs, for the cache to learn it.
        let (hashing, late) = std::thread::scope(|scope| {
            let late = recalled
                .fingerprint
                .is_none()
                .then(|| scope.spawn(|| self.fingerprint(pack)));
            let hashing = self.run_tar(&mut run, pack, &tar, &target);
            (hashing, late.and_then(|l| l.join().ok().flatten()))
        });
        let hashing = match hashing {
            Ok(hashing) => hashing,
            Err(failure) => return Err(self.fail(run, failure)),
        };
        recalled.fingerprint = recalled.fingerprint.or(late);
        if recalled.fingerprint.is_none() && on_disk.is_none() {
            self.end(run, Status::Ok, None);
            return Ok(Prepared::Archive {
                hashing,
                archived: Archived::Tar,
            });
        }
        let made = hashing.finish();
        if let Ok((digest, size)) = &made {
            recalled.remember(self.cache.as_ref(), pack, digest, *size);
        }
        let Some(on_disk) = on_disk else {
            self.end(run, Status::Ok, None);
            return Ok(Prepared::Archive {
                hashing: Hashing::Done(made),
                archived: Archived::Tar,
            });
        };
        let _ = std::fs::remove_file(&target);
        match made {
            Ok(made) if made == on_disk => {
                let note = "tar made the very archive already in --output-dir: that one is used";
                self.end(run, Status::Ok, Some(note.into()));
                Ok(Prepared::Archive {
                    hashing: Hashing::Done(Ok(on_disk)),
                    archived: Archived::Reused,
                })
            }
            Ok(made) => Err(self.fail(run, refuse_on_disk(pack, &on_disk, &made.into()))),
            Err(e) => Err(self.fail(
                run,
                Failure::new(
                    Class::Archive,
                    format!("cannot read the archive tar made ({target}): {e}"),
                ),
            )),
        }
    }

    /// Runs tar into `target`, hashing alongside. In `--output-dir` the
    /// name is claimed first (O_EXCL: a file that appeared since the
    /// preflight is never overwritten, and a partial archive is ours to
    /// remove). In the run's own private folder nothing else can appear,
    /// and tar creates the file itself: an empty file that tar truncates
    /// makes ext4 write the whole archive to disk as tar closes it, which
    /// stalls the run's next commands.
    fn run_tar(
        &self,
        run: &mut Running<'_>,
        pack: &PackPlan,
        tar: &Command,
        target: &Utf8Path,
    ) -> Result<Hashing, Failure> {
        let step = run.step;
        if self.plan.archives_kept
            && let Err(e) = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(target)
        {
            return Err(
                in_step(Class::Archive, step, format!("cannot create {target}: {e}")).hint(
                    "packpush never overwrites a file: move it away, or pass another --output-dir",
                ),
            );
        }
        let follower = Follower::start(target);
        let result = self
            .exec(run, tar)
            .and_then(|_| check_gzip_output(pack, tar, target));
        match result {
            Ok(()) => Ok(Hashing::Following(follower)),
            Err(failure) => {
                let _ = follower.finish();
                let _ = std::fs::remove_file(target);
                Err(failure.detail(format!("the partial archive {target} was removed")))
            }
        }
    }

    /// Step 3 when no pack needs pushing: every one was found up to date
    /// before archiving (or failed).
    pub(super) fn skip_base(&self) {
        let run = self.begin(None, &self.plan.base.step);
        let note = "no pack to push: found up to date before archiving";
        self.end(run, Status::Skipped, Some(note.into()));
    }

    /// Steps 4 and 5 of a pack found up to date before archiving: the
    /// look-up then judged what the registry holds.
    pub(super) fn skip_push_and_verify(&self, pack: &PackPlan, digest: &str) {
        let run = self.begin(Some(pack), &pack.push.step);
        let note = format!(
            "found up to date before archiving ({}); nothing pushed",
            short(digest)
        );
        self.end(run, Status::Skipped, Some(note));
        let run = self.begin(Some(pack), &pack.verify.step);
        let note = "checked by the look-up before archiving: manifest shape, layer digest, size and title match";
        self.end(run, Status::Skipped, Some(note.into()));
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
        let (verified, tags) = self.verify(pack, &manifest_digest, base_digest, &archive);
        let (layer, read_back) = verified.map_err(|failure| PackFailed {
            failure,
            manifest_digest: Some(manifest_digest.clone()),
        })?;
        Ok(Pushed {
            status,
            manifest_digest,
            layer,
            read_back,
            tags,
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
        let refusal = existing.refusal(self.plan.reproducible);
        if let Some(refusal) = refusal.filter(|_| !self.settings.overwrite) {
            let failure = in_step(
                Class::Push,
                &push.step,
                format!(
                    "the registry {}: {}",
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
        held(outcome).map_err(|outcome| self.failure(run.step, lookup, Ended::Exited(&outcome)))
    }

    /// Step 5: the pack's manifest read back (and the base path's, by the
    /// first pack that gets here: the others wait for it), judged: the
    /// layer and the manifest read back. Beside it, the repository's tags
    /// are read for the view the push ends with.
    fn verify(
        &self,
        pack: &PackPlan,
        manifest_digest: &str,
        base_digest: &str,
        archive: &Archive,
    ) -> (Result<Verified, Failure>, Option<TagsRead>) {
        let step = &pack.verify.step;
        let mut run = self.begin(Some(pack), step);
        let mut tags_run = Running::new(Some(pack), step);
        let (read, tags) = std::thread::scope(|scope| {
            let tags = scope.spawn(|| self.read_tags(&mut tags_run, pack));
            let read = self
                .exec(&mut run, &pack.verify.fetch)
                .and_then(|pack_out| {
                    let base = self.read_base_once(&mut run, base_digest)?;
                    Ok((pack_out.stdout, base))
                });
            (read, tags.join().expect("the read of the tags"))
        });
        let tags = tags_run.commands.pop().map(|record| TagsRead {
            record,
            output: tags,
        });
        let judged = read.and_then(|(pack_manifest, base_manifest)| {
            let read_back = ReadBack {
                pack_manifest: &pack_manifest,
                pushed_digest: manifest_digest,
                version: &pack.target.version,
                expected: archive.expected(),
                base_manifest: base_manifest.as_deref(),
            };
            verify::judge_readback(&read_back)
                .map(|layer| (layer, pack_manifest.clone()))
                .map_err(|problems| {
                let mut failure = in_step(Class::Verify, step, "the registry does not hold what Palette expects");
                for problem in problems {
                    failure = failure.detail(problem);
                }
                failure.hint(
                    "a version pushed earlier by ORAS newer than 1.0.0 without --image-spec v1.0 has the wrong shape: \
                     push it again with --overwrite; another push to the same tag at the same time also causes this",
                )
            })
        });
        // A pack that fails here is left out of the view: the read of its
        // tags is then one of the step's commands, as it ran during it.
        let tags = match (&judged, tags) {
            (Err(_), Some(tags)) => {
                run.commands.push(tags.record);
                None
            }
            (_, tags) => tags,
        };
        let verified = self.close(run, judged, |_| {
            Some("manifest shape, layer digest, size and title match".into())
        });
        (verified, tags)
    }

    /// The tags of the pack's repository (a read-only look-up, said only
    /// with `--verbose`); `None` when they could not be read.
    fn read_tags(&self, run: &mut Running<'_>, pack: &PackPlan) -> Option<Vec<u8>> {
        let outcome = self.look_up(run, &pack.verify.tags).ok()?;
        outcome.exit.success().then_some(outcome.stdout)
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

/// What a look-up's answer says the registry holds under the tag: a
/// manifest, nothing (`None`), or no answer (the outcome back).
pub(super) fn held(
    outcome: crate::process::Outcome,
) -> Result<Option<Vec<u8>>, crate::process::Outcome> {
    if outcome.exit.success() {
        return Ok(Some(outcome.stdout));
    }
    if hints::says_not_found(&String::from_utf8_lossy(&outcome.stderr)) {
        return Ok(None);
    }
    Err(outcome)
}

/// A free name beside `archive`, for an archive to compare with it.
fn beside(archive: &Utf8Path) -> Utf8PathBuf {
    let name = archive.file_name().unwrap_or("archive");
    let suffix: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(6)
        .collect();
    archive.with_file_name(format!(".{name}.packpush-{suffix}"))
}

/// The archive in `--output-dir` is not the one this content gives: it is
/// never overwritten.
fn refuse_on_disk(pack: &PackPlan, on_disk: &(String, u64), this: &cache::Known) -> Failure {
    let step = &pack.archive_step.step;
    in_step(
        Class::Archive,
        step,
        format!(
            "{} already exists and holds another archive than this pack gives",
            pack.archive
        ),
    )
    .detail(format!(
        "in --output-dir: {} ({} bytes)",
        on_disk.0, on_disk.1
    ))
    .detail(format!("this pack: {} ({} bytes)", this.digest, this.size))
    .detail("packpush never overwrites a file; nothing was pushed for this pack")
    .hint(format!(
        "move or remove {}, or pass another --output-dir",
        pack.archive
    ))
}

/// tar said it succeeded: the archive must exist and be gzip output.
fn check_gzip_output(pack: &PackPlan, tar: &Command, archive: &Utf8Path) -> Result<(), Failure> {
    let step = &pack.archive_step.step;
    let mut head = [0u8; 2];
    let read =
        std::fs::File::open(archive).and_then(|mut f| std::io::Read::read(&mut f, &mut head));
    match read {
        Ok(2) if looks_like_gzip(&head) => Ok(()),
        Ok(_) => Err(in_step(
            Class::Archive,
            step,
            format!("tar exited 0 but {archive} is not a gzip archive"),
        )
        .detail(format!("command: {}", tar.shell_line(true)))
        .hint(
            "--tar (PACKPUSH_TAR) must be GNU tar or bsdtar; check that the program is a real tar",
        )),
        Err(e) => Err(in_step(
            Class::Archive,
            step,
            format!("tar exited 0 but {archive} cannot be read: {e}"),
        )),
    }
}
