//! Reading a registry through oras, read-only: the project's repositories
//! (`oras repo ls`), each repository's tags (`oras repo tags`), each
//! version's manifest (`oras manifest fetch`) and, with `--deep`, its
//! archive (`oras blob fetch` into the run's private folder). Every command
//! goes through `retry` and is recorded; a command that fails is recorded
//! where it belongs (the catalog, a repository, a version) and the reading
//! goes on. Only an interruption stops it.

use camino::{Utf8Path, Utf8PathBuf};

use super::judge::{self, Downloaded, FIX_PLACE};
use super::{
    ArchiveRecord, BasePathStatus, Catalog, CatalogStatus, Listing, Place, RepositoryRecord,
    VersionRecord,
};
use crate::error::{Class, Failure};
use crate::hints;
use crate::pack;
use crate::parallel;
use crate::process::{self, Command, Echo, Limits, Outcome, RunError};
use crate::record::{CommandRecord, ErrorRecord};
use crate::reference;
use crate::retry::{self, Attempts, Retry, Tried, Tries};
use crate::secret::Secret;
use crate::signals;
use crate::tools::oras::Oras;
use crate::ui::{Level, Ui};
use crate::verify::Layer;

/// Reads one registry's project, recording every command.
#[derive(Debug)]
pub struct Reader<'a> {
    oras: Oras,
    registry: String,
    project: String,
    /// Where commands run and archives are downloaded (private).
    work_dir: Utf8PathBuf,
    retries: u32,
    limits: Limits,
    /// How many repositories are read at a time.
    jobs: usize,
    ui: &'a Ui,
    commands: Vec<CommandRecord>,
}

/// What to read.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// Only these packs; empty: every repository the catalog lists.
    pub names: &'a [String],
    /// What the caller knows of the base path (a push just made it);
    /// `None`: ask the registry.
    pub base_path: Option<BasePathStatus>,
    /// Download and check every archive.
    pub deep: bool,
    /// Manifests a push has just read back under its packs' tags: taken
    /// as they are instead of being read again.
    pub read_back: &'a [ReadBack<'a>],
}

/// A manifest a push read back a moment ago: pack `name`, tag `version`;
/// and the tags of its repository, read beside it (the command's record,
/// and its output when it answered).
#[derive(Clone, Copy, Debug)]
pub struct ReadBack<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub manifest: &'a [u8],
    pub tags: Option<(&'a CommandRecord, Option<&'a [u8]>)>,
}

/// What one read came to.
enum Answer {
    Output(Vec<u8>),
    /// The registry says there is no such thing.
    NotFound(Failure),
    /// It failed; `refused`: the registry refused this account.
    Failed {
        failure: Failure,
        refused: bool,
    },
}

/// A repository to read, and what is known of it.
#[derive(Clone, Debug)]
pub(super) struct Target {
    pub(super) name: String,
    pub(super) place: Place,
    pub(super) requested: bool,
    /// The catalog lists it.
    pub(super) listed: bool,
}

impl<'a> Reader<'a> {
    pub fn new(
        oras: Oras,
        (registry, project): (&str, &str),
        work_dir: &Utf8Path,
        (retries, limits, jobs): (u32, Limits, usize),
        ui: &'a Ui,
    ) -> Reader<'a> {
        Reader {
            oras,
            registry: registry.to_string(),
            project: project.to_string(),
            work_dir: work_dir.to_owned(),
            retries,
            limits,
            jobs,
            ui,
            commands: Vec::new(),
        }
    }

    /// A reader like this one, with no command recorded yet: for one of
    /// the repositories read side by side.
    fn fork(&self) -> Reader<'a> {
        Reader {
            oras: self.oras.clone(),
            registry: self.registry.clone(),
            project: self.project.clone(),
            work_dir: self.work_dir.clone(),
            commands: Vec::new(),
            ..*self
        }
    }

    /// `oras login`, the password on stdin; a failure is a login failure.
    pub fn login(&mut self, username: &str, secret: &Secret) -> Result<(), Failure> {
        let command = self.oras.login(&self.registry, username, &self.work_dir);
        let what = format!("log in to {}", self.registry);
        match self.ask(&command, &what, Some(secret))? {
            Answer::Output(_) => Ok(()),
            Answer::NotFound(failure) | Answer::Failed { failure, .. } => Err(Failure {
                class: Class::Login,
                message: format!("cannot log in to {}", self.registry),
                ..failure
            }),
        }
    }

    /// Reads what `request` asks for. `Err` only when a signal stopped it.
    pub fn read(mut self, request: &Request<'_>) -> Result<Listing, Failure> {
        let base_path = reference::base_repository(&self.registry, &self.project);
        let (catalog, listed) = match request.base_path {
            Some(_) => (not_asked(), None),
            None => self.catalog()?,
        };
        let mut listing = Listing::empty(base_path, catalog, request.deep);
        listing.base_path_status = match (request.base_path, &listed) {
            (Some(known), _) => known,
            (None, Some(listed)) if listed.base_path => BasePathStatus::Present,
            (None, Some(_)) => BasePathStatus::Missing,
            (None, None) => self.base_path_unlisted(&mut listing)?,
        };
        let mut fixes = Vec::new();
        let targets = targets(request.names, listed.as_ref());
        // Repositories are read side by side (each by a reader of its own),
        // and taken in the catalog's order.
        let read = parallel::for_each(&targets, self.jobs, |_, target| {
            let mut reader = self.fork();
            let repository = reader.repository(target.clone(), request);
            (repository, reader.commands)
        });
        for result in read {
            let Some((repository, commands)) = result else {
                continue;
            };
            self.commands.extend(commands);
            let (repository, repo_fixes) = repository?;
            if repository.place == Place::Outside && !repository.requested && repository.usable {
                listing.other_repositories.push(repository.name);
                continue;
            }
            fixes.extend(repo_fixes);
            listing.repositories.push(repository);
        }
        if let Some(listed) = &listed {
            listing.hint_elsewhere(listed);
        }
        listing.commands = self.commands;
        listing.conclude(&fixes);
        Ok(listing)
    }

    /// The project's repositories: the catalog as it went, and what it listed.
    fn catalog(&mut self) -> Result<(Catalog, Option<judge::Catalog>), Failure> {
        let namespace = format!("{}/{}", self.registry, self.project);
        let command = self.oras.list_repositories(
            &namespace,
            format!("list the repositories of {namespace}"),
            &self.work_dir,
        );
        let what = format!("the repositories of {namespace}");
        let (status, failure) = match self.ask(&command, &what, None)? {
            Answer::Output(out) => {
                let listed = judge::catalog(&String::from_utf8_lossy(&out));
                let catalog = Catalog {
                    status: CatalogStatus::Listed,
                    error: None,
                };
                return Ok((catalog, Some(listed)));
            }
            Answer::Failed {
                failure,
                refused: true,
            } => (CatalogStatus::Refused, refused(failure, &namespace)),
            Answer::Failed { failure, .. } | Answer::NotFound(failure) => {
                (CatalogStatus::Failed, failure)
            }
        };
        let catalog = Catalog {
            status,
            error: Some(ErrorRecord::from(&failure)),
        };
        Ok((catalog, None))
    }

    /// Without the catalog: the base path's tags. Harbor answers with an
    /// empty list for a repository that holds only untagged artifacts;
    /// the distribution registry answers "name unknown" for it and for a
    /// repository that does not exist alike.
    fn base_path_unlisted(&mut self, listing: &mut Listing) -> Result<BasePathStatus, Failure> {
        let command = self.oras.list_tags(
            &listing.base_path,
            format!("look up the base path {}", listing.base_path),
            &self.work_dir,
        );
        let what = format!("the base path {}", listing.base_path);
        let note = match self.ask(&command, &what, None)? {
            Answer::Output(_) => return Ok(BasePathStatus::Present),
            Answer::NotFound(_) => format!(
                "the base path {} may be missing: without the catalog, the registry answers a \
                 repository that does not exist and one that holds only the untagged base-path \
                 artifact alike",
                listing.base_path
            ),
            Answer::Failed { failure, .. } => format!(
                "whether the base path {} exists is not known: {}",
                listing.base_path, failure.message
            ),
        };
        listing.notes.push(note);
        Ok(BasePathStatus::Unknown)
    }

    /// One repository: its tags, then every version, in version order.
    fn repository(
        &mut self,
        target: Target,
        request: &Request<'_>,
    ) -> Result<(RepositoryRecord, Vec<&'static str>), Failure> {
        let repository = self.repository_path(&target);
        let mut record = RepositoryRecord::new(&target, &repository);
        if let Some(tags) = self.tags_read_by_the_push(&target, request) {
            return self.versions(record, tags, request);
        }
        let command = self.oras.list_tags(
            &repository,
            format!("list the tags of {repository}"),
            &self.work_dir,
        );
        let what = format!("the tags of {repository}");
        let tags = match self.ask(&command, &what, None)? {
            Answer::Output(out) => judge::sorted_tags(&String::from_utf8_lossy(&out)),
            Answer::NotFound(_) if target.listed => Vec::new(),
            Answer::NotFound(_) => {
                record.not_found();
                return Ok((record, Vec::new()));
            }
            Answer::Failed { failure, .. } => {
                record.unreadable(&failure);
                return Ok((record, Vec::new()));
            }
        };
        self.versions(record, tags, request)
    }

    /// The tags a push read beside its read-backs of this pack (each such
    /// read is recorded among the listing's commands): `None` when there
    /// are none, or one of them did not answer.
    fn tags_read_by_the_push(
        &mut self,
        target: &Target,
        request: &Request<'_>,
    ) -> Option<Vec<String>> {
        if target.place != Place::Pack {
            return None;
        }
        let reads: Vec<_> = request
            .read_back
            .iter()
            .filter(|known| known.name == target.name)
            .filter_map(|known| known.tags)
            .collect();
        if reads.is_empty() {
            return None;
        }
        self.commands
            .extend(reads.iter().map(|(command, _)| (*command).clone()));
        let mut listed = String::new();
        for (_, output) in reads {
            listed.push_str(&String::from_utf8_lossy(output?));
            listed.push('\n');
        }
        Some(judge::sorted_tags(&listed))
    }

    /// Every version under `tags`, in version order, and what the
    /// repository comes to.
    fn versions(
        &mut self,
        mut record: RepositoryRecord,
        tags: Vec<String>,
        request: &Request<'_>,
    ) -> Result<(RepositoryRecord, Vec<&'static str>), Failure> {
        let mut fixes = Vec::new();
        let mut pack_like = false;
        for tag in tags {
            let (version, like, version_fixes) = self.version(&record, &tag, request)?;
            pack_like |= like;
            fixes.extend(version_fixes);
            record.versions.push(version);
        }
        if record.place != Place::Pack && (pack_like || record.requested) {
            fixes.push(FIX_PLACE);
        }
        record.conclude(pack_like);
        Ok((record, fixes))
    }

    fn repository_path(&self, target: &Target) -> String {
        match target.place {
            Place::Outside => format!("{}/{}/{}", self.registry, self.project, target.name),
            Place::Pack | Place::Nested => format!(
                "{}/{}",
                reference::base_repository(&self.registry, &self.project),
                target.name
            ),
        }
    }

    /// One version: its manifest judged, and with `deep` its archive. Also
    /// whether it looks like a pack at all. A manifest the push read back
    /// is not read again.
    fn version(
        &mut self,
        repository: &RepositoryRecord,
        tag: &str,
        request: &Request<'_>,
    ) -> Result<(VersionRecord, bool, Vec<&'static str>), Failure> {
        let reference = format!("{}:{tag}", repository.repository);
        let mut version = VersionRecord::new(tag, &reference);
        let read_back = request.read_back.iter().find(|known| {
            repository.place == Place::Pack && known.name == repository.name && known.version == tag
        });
        let manifest = match read_back {
            Some(known) => known.manifest.to_vec(),
            None => match self.manifest(&reference)? {
                Ok(out) => out,
                Err(failure) => {
                    version.unreadable(&failure);
                    return Ok((version, false, Vec::new()));
                }
            },
        };
        let judged = judge::version(&repository.name, tag, &manifest);
        let mut fixes = judged.fixes.clone();
        version.judged(judged);
        if request.deep
            && repository.place == Place::Pack
            && let Some(layer) = version.layer.clone()
        {
            let (archive, archive_fixes) = self.archive(repository, tag, &layer)?;
            fixes.extend(archive_fixes);
            version.archive = Some(archive);
        }
        version.conclude(repository.place);
        Ok((version, judge::looks_like_a_pack(&manifest), fixes))
    }

    /// The manifest under `reference`; `Ok(Err)`: it could not be read.
    fn manifest(&mut self, reference: &str) -> Result<Result<Vec<u8>, Failure>, Failure> {
        let command = self.oras.fetch_manifest(
            reference,
            format!("read the manifest of {reference}"),
            &self.work_dir,
        );
        let what = format!("the manifest of {reference}");
        Ok(match self.ask(&command, &what, None)? {
            Answer::Output(out) => Ok(out),
            Answer::NotFound(failure) | Answer::Failed { failure, .. } => Err(failure),
        })
    }

    /// `--deep`: the archive downloaded into the private folder, checked,
    /// and removed.
    fn archive(
        &mut self,
        repository: &RepositoryRecord,
        tag: &str,
        layer: &Layer,
    ) -> Result<(ArchiveRecord, Vec<&'static str>), Failure> {
        let dir = self.work_dir.join("archives");
        let file = dir.join(format!("{}-{tag}.tar.gz", repository.name));
        let blob = format!("{}@{}", repository.repository, layer.digest);
        let command = self.oras.fetch_blob(
            &blob,
            &file,
            format!("download the archive {blob}"),
            &self.work_dir,
        );
        let what = format!("the archive of {}:{tag}", repository.repository);
        let answer = match std::fs::create_dir_all(&dir) {
            Ok(()) => self.ask(&command, &what, None)?,
            Err(e) => Answer::Failed {
                failure: Failure::new(Class::Other, format!("cannot create {dir}: {e}")),
                refused: false,
            },
        };
        let checked = match answer {
            Answer::Output(_) => checked_archive(&file, &what, repository, tag, layer),
            Answer::NotFound(failure) | Answer::Failed { failure, .. } => {
                (ArchiveRecord::unread(&failure), vec![judge::FIX_ARCHIVE])
            }
        };
        let _ = std::fs::remove_file(&file);
        Ok(checked)
    }

    /// Runs a read (with `secret` on stdin, for the login): announced with
    /// `--verbose`, tried again after transient failures, recorded.
    fn ask(
        &mut self,
        command: &Command,
        what: &str,
        secret: Option<&Secret>,
    ) -> Result<Answer, Failure> {
        if self.ui.level() == Level::Verbose {
            self.ui.line(&format!("  $ {}", command.shell_line(true)));
        }
        let retries = self.retries;
        self.commands.push(CommandRecord::planned(command));
        let mut attempts = ReadAttempts {
            reader: self,
            secret,
        };
        let tries = retry::tries(command, retries, &mut attempts)?;
        self.answer(command, what, tries)
    }

    /// What the tries of a read came to.
    fn answer(&self, command: &Command, what: &str, tries: Tries) -> Result<Answer, Failure> {
        let (failure, gave_up, stderr) = match tries {
            Tries::Ran { outcome, gave_up } if outcome.exit.success() && gave_up.is_none() => {
                return Ok(Answer::Output(outcome.stdout));
            }
            Tries::Ran { outcome, gave_up } => {
                let stderr = String::from_utf8_lossy(&outcome.stderr).into_owned();
                (self.exited(command, what, &outcome), gave_up, stderr)
            }
            Tries::Stopped {
                error: RunError::Interrupted(sig),
                ..
            } => {
                return Err(Failure::new(
                    Class::Interrupted(sig),
                    format!("interrupted by {} while reading {what}", signals::name(sig)),
                )
                .detail("the running command was stopped; nothing in the registry was changed"));
            }
            Tries::Stopped { error, gave_up } => {
                (stopped(command, what, error), gave_up, String::new())
            }
            Tries::AlreadyDone(_) => unreachable!("reads ask for no recheck"),
        };
        let transient = gave_up.is_some();
        let failure = retry::gave_up(failure, gave_up.as_deref(), self.retries);
        Ok(if !transient && hints::says_not_found(&stderr) {
            Answer::NotFound(failure)
        } else {
            Answer::Failed {
                refused: !transient && hints::says_refused(&stderr),
                failure,
            }
        })
    }

    /// A read that ran and failed: the command, its result, what oras said,
    /// and the hints for it.
    fn exited(&self, command: &Command, what: &str, outcome: &Outcome) -> Failure {
        let mut failure = Failure::new(Class::Verify, format!("cannot read {what}"))
            .detail(format!("command: {}", command.shell_line(true)))
            .detail(format!("result: {}", outcome.exit.describe()));
        for line in outcome.said(&command.program.display, true) {
            failure = failure.detail(line);
        }
        let stderr = String::from_utf8_lossy(&outcome.stderr);
        let context = hints::Context {
            registry: &self.registry,
            project: &self.project,
            tls: &self.oras.tls,
            login: command.stdin_secret,
            wording: hints::Wording::default(),
        };
        for hint in hints::hints_for(&stderr, &context) {
            failure = failure.hint(hint);
        }
        failure
    }
}

/// A read that could not start or was stopped by a time limit.
fn stopped(command: &Command, what: &str, error: RunError) -> Failure {
    let (message, hint) = match (&error, retry::stopped_words(&error, &command.program.path)) {
        (RunError::Interrupted(sig), _) => (
            format!(
                "interrupted by {} while reading {what}",
                signals::name(*sig)
            ),
            None,
        ),
        (_, Some((happened, hint))) => (format!("cannot read {what}: {happened}"), hint),
        (_, None) => (format!("cannot read {what}"), None),
    };
    let failure = Failure::new(Class::Verify, message)
        .detail(format!("command: {}", command.shell_line(true)));
    match hint {
        Some(hint) => failure.hint(hint),
        None => failure,
    }
}

/// A refused catalog, said with what to do instead.
fn refused(failure: Failure, namespace: &str) -> Failure {
    Failure {
        message: format!(
            "the registry does not let this account list the repositories of {namespace}"
        ),
        hints: vec![
            "name the packs to check, which needs no catalog: packpush list ... NAME...".into(),
            "or use an account the registry lets list its catalog (in Harbor, a system \
             administrator or a robot account with the system permission to list repositories)"
                .into(),
        ],
        ..failure
    }
}

fn not_asked() -> Catalog {
    Catalog {
        status: CatalogStatus::NotAsked,
        error: None,
    }
}

/// The repositories to read: the names given (each under the base path),
/// else everything the catalog listed under the base path and outside it.
fn targets(names: &[String], listed: Option<&judge::Catalog>) -> Vec<Target> {
    if !names.is_empty() {
        let in_catalog =
            |name: &String| listed.is_some_and(|l| l.under_base.iter().any(|(n, _)| n == name));
        return names
            .iter()
            .map(|name| Target {
                name: name.clone(),
                place: Place::Pack,
                requested: true,
                listed: in_catalog(name),
            })
            .collect();
    }
    let Some(listed) = listed else {
        return Vec::new();
    };
    let under = listed.under_base.iter().map(|(name, place)| Target {
        name: name.clone(),
        place: *place,
        requested: false,
        listed: true,
    });
    let outside = listed.outside.iter().map(|name| Target {
        name: name.clone(),
        place: Place::Outside,
        requested: false,
        listed: true,
    });
    under.chain(outside).collect()
}

/// The downloaded archive against its layer and its tag.
fn checked_archive(
    file: &Utf8Path,
    what: &str,
    repository: &RepositoryRecord,
    tag: &str,
    layer: &Layer,
) -> (ArchiveRecord, Vec<&'static str>) {
    let (digest, size) = match crate::digest::of_file(file) {
        Ok(found) => found,
        Err(e) => {
            let failure = Failure::new(Class::Other, format!("cannot read {file}: {e}"));
            return (ArchiveRecord::unread(&failure), vec![judge::FIX_ARCHIVE]);
        }
    };
    let contents = pack::inspect_contents(file, what).map(|(_, json, findings)| (json, findings));
    judge::archive(Downloaded {
        name: &repository.name,
        tag,
        layer,
        digest: &digest,
        size,
        contents,
    })
}

/// A read's tries: run with the reader's limits, recorded in its last
/// command record, retries said as push says them.
struct ReadAttempts<'r, 'a> {
    reader: &'r mut Reader<'a>,
    secret: Option<&'r Secret>,
}

impl Attempts for ReadAttempts<'_, '_> {
    fn try_once(&mut self, command: &Command) -> Tried {
        let secret = self.secret.filter(|_| command.stdin_secret);
        process::run(command, secret, Echo::Hidden, self.reader.limits)
    }

    fn tried(&mut self, tried: &Tried) {
        if let Some(record) = self.reader.commands.last_mut() {
            record.tried(tried);
        }
    }

    fn retrying(&mut self, retry: &Retry<'_>) {
        if let Some(record) = self.reader.commands.last_mut() {
            record.retrying(retry.reason, retry.pause);
        }
        self.reader.ui.line(&format!("  {}", retry.line()));
    }
}
