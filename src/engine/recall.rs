//! The start of step 2, for every pack folder before any tar runs: its
//! fingerprint (computed beside the login: it reads only the pack folders;
//! for a version the cache never saw, beside tar instead, as nothing can be
//! found for it), the archive the cache remembers for it, and, when there is one, the
//! read-only look-up of the pack's tag, so that step 2 can find the pack up
//! to date without running tar (`verify::before_archiving`).
//!
//! Look-ups change nothing, so they run for several packs at a time:
//! [`AT_ONCE`], or `--jobs` when more. A look-up that fails is only
//! recorded: the pack is archived as ever, and step 4's look-up says what
//! is wrong.

use std::time::{Duration, Instant};

use super::steps::held;
use super::{Engine, Running};
use crate::cache::{Cache, Known};
use crate::error::{Class, Failure};
use crate::pack::fingerprint::Fingerprint;
use crate::plan::PackPlan;
use crate::record::CommandRecord;

/// Packs whose fingerprint and look-up are found at the same time, at least.
pub const AT_ONCE: usize = 4;

/// What is known of a pack before step 2 runs tar.
#[derive(Debug, Default)]
pub(super) struct Recalled {
    pub fingerprint: Option<Fingerprint>,
    /// The archive the cache remembers for the fingerprint.
    pub cached: Option<Known>,
    /// The look-up that ran because the cache knew the archive.
    lookup: Option<LookedUp>,
    /// How long finding all this took (part of step 2's time).
    pub took: Duration,
}

/// A look-up run before step 2 was announced.
#[derive(Debug)]
struct LookedUp {
    record: CommandRecord,
    /// What it found under the tag (`None`: no answer).
    held: Option<Option<Vec<u8>>>,
}

/// A pack folder's fingerprint, and how long it took.
pub(super) type Printed = Option<(Fingerprint, Duration)>;

impl Engine<'_> {
    /// Every pack folder's fingerprint when the cache is used (a folder
    /// that cannot be read has none: the cache is not used for it). It
    /// reads only the pack folders, so it runs beside the login.
    /// A version the cache never saw cannot be found in it: its fingerprint
    /// is computed beside tar instead (`steps`).
    pub(super) fn fingerprint_all(&self) -> Vec<Printed> {
        let Some(cache) = &self.cache else {
            return Vec::new();
        };
        let print = |pack: &PackPlan| {
            if !cache.knows_version(&pack.label()) {
                return None;
            }
            let started = Instant::now();
            Some((self.fingerprint(pack)?, started.elapsed()))
        };
        self.plan.packs.iter().map(print).collect()
    }

    /// A pack folder's fingerprint, when the cache is used (a folder that
    /// cannot be read has none: the cache is not used for it).
    pub(super) fn fingerprint(&self, pack: &PackPlan) -> Option<Fingerprint> {
        let (recall, cache) = (pack.archive_step.recall.as_ref()?, self.cache.as_ref()?);
        let context = recall.context.as_bytes();
        Fingerprint::compute(&recall.folder, &recall.folder_name, recall.view, context)
            .map_err(|e| cache.note(format!("{} cannot be fingerprinted ({e})", recall.folder)))
            .ok()
    }

    /// What is known of every pack before archiving, from its fingerprint;
    /// an interruption stops the run.
    pub(super) fn recall_all(&self, prints: Vec<Printed>) -> Result<Vec<Recalled>, Failure> {
        let prints: Vec<std::sync::Mutex<Printed>> =
            prints.into_iter().map(std::sync::Mutex::new).collect();
        let workers = self.settings.jobs.max(AT_ONCE);
        let results = self.for_each_pack_at(workers, |index, pack| {
            let printed = prints
                .get(index)
                .and_then(|p| p.lock().expect("fingerprint slot").take());
            self.recall(pack, printed)
        });
        let mut recalled = Vec::new();
        for result in results {
            recalled.push(result.transpose()?.unwrap_or_default());
        }
        match super::interrupted("before archiving") {
            Some(failure) => Err(failure),
            None => Ok(recalled),
        }
    }

    /// The cache's entry for a pack's fingerprint, and the look-up when the
    /// entry can spare tar.
    fn recall(&self, pack: &PackPlan, printed: Printed) -> Result<Recalled, Failure> {
        let started = Instant::now();
        let (Some(cache), Some((fingerprint, printing))) = (&self.cache, printed) else {
            return Ok(Recalled::default());
        };
        let cached = cache.recall(&fingerprint.hex);
        // With --output-dir, the archive is wanted on disk: tar runs unless
        // it is there already.
        let wanted_on_disk = self.plan.archives_kept && pack.archive.symlink_metadata().is_err();
        let lookup = match &cached {
            Some(_) if !wanted_on_disk => Some(self.early_look_up(pack)?),
            _ => None,
        };
        Ok(Recalled {
            fingerprint: Some(fingerprint),
            cached,
            lookup,
            took: printing + started.elapsed(),
        })
    }

    /// The look-up of step 4, run now and not announced (step 2 shows it).
    fn early_look_up(&self, pack: &PackPlan) -> Result<LookedUp, Failure> {
        let lookup = &pack.push.lookup;
        let mut run = Running::new(Some(pack), &pack.archive_step.step);
        let held = match self.ask(&mut run, lookup) {
            Ok(outcome) => held(outcome).ok(),
            Err(failure) if matches!(failure.class, Class::Interrupted(_)) => return Err(failure),
            Err(_) => None,
        };
        let record = run
            .commands
            .pop()
            .unwrap_or_else(|| CommandRecord::planned(lookup));
        Ok(LookedUp { record, held })
    }
}

impl Recalled {
    /// Shows and records the look-up under step 2; what it found.
    pub(super) fn attach(
        &self,
        engine: &Engine<'_>,
        run: &mut Running<'_>,
        pack: &PackPlan,
    ) -> Option<Option<Vec<u8>>> {
        let looked = self.lookup.as_ref()?;
        engine.progress().command(&pack.push.lookup, true);
        run.commands.push(looked.record.clone());
        looked.held.clone()
    }

    /// The cache's entry spared tar: it is kept the longest.
    pub(super) fn used(&self, cache: Option<&Cache>, pack: &PackPlan) {
        if let (Some(cache), Some(fingerprint)) = (cache, &self.fingerprint) {
            cache.used(&fingerprint.hex, &pack.label());
        }
    }

    /// Tells the cache which archive tar made of this content, unless a
    /// file changed since it was fingerprinted.
    pub(super) fn remember(&self, cache: Option<&Cache>, pack: &PackPlan, digest: &str, size: u64) {
        let (Some(cache), Some(fingerprint), Some(recall)) =
            (cache, &self.fingerprint, &pack.archive_step.recall)
        else {
            return;
        };
        match &self.cached {
            Some(cached) if cached.digest == digest && cached.size == size => return,
            Some(cached) => cache.note(format!(
                "tar made {digest} of {}, but the cache remembered {} for the same content",
                recall.folder, cached.digest
            )),
            None => {}
        }
        if fingerprint.still_matches(&recall.folder, &recall.folder_name) {
            let known = Known {
                digest: digest.into(),
                size,
            };
            cache.remember(&fingerprint.hex, &pack.label(), &known);
        }
    }
}
