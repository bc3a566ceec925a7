//! What Palette will find in a registry: the pack repositories under
//! `PROJECT/spectro-packs/archive`, every version in them, and whether
//! Palette can use each, as data that `packpush list` prints (as a table or
//! as JSON) and that `push` and `guide` end with for the pushed packs.
//!
//! `read` reads the registry through oras, read-only (`repo ls`, `repo
//! tags`, `manifest fetch`, and `blob fetch` for `--deep`), with retries;
//! `judge` decides what the bytes mean (pure functions); `render` lays the
//! result out for people.

mod judge;
mod read;
pub mod render;

use serde::Serialize;

pub use read::{ReadBack, Reader, Request};

use crate::error::Failure;
use crate::record::{CommandRecord, ErrorRecord};
use crate::reference::NAMESPACE;
use crate::verify::Layer;
use judge::Judged;

/// What to do about a missing base path.
const FIX_BASE: &str = "create the base path: packpush push creates it with every push, or push \
    the empty artifact the documentation prescribes: oras push REGISTRY/PROJECT/spectro-packs/archive";

/// Everything `list` found.
#[derive(Clone, Debug, Serialize)]
pub struct Listing {
    /// `REGISTRY/PROJECT/spectro-packs/archive`.
    pub base_path: String,
    pub base_path_status: BasePathStatus,
    pub catalog: Catalog,
    /// The archives were downloaded and checked (`--deep`).
    pub deep: bool,
    /// The pack repositories (and repositories that hold packs where
    /// Palette does not look), sorted by name.
    pub repositories: Vec<RepositoryRecord>,
    /// Repositories of the project outside `spectro-packs/archive` that
    /// hold no pack: not Palette's business, listed for completeness.
    pub other_repositories: Vec<String>,
    /// Palette can use every version listed, and the base path exists.
    pub usable: bool,
    /// Everything Palette cannot use, one line each, with why.
    pub problems: Vec<String>,
    /// Facts that do not make anything unusable (e.g. a base path the
    /// registry would not say anything about).
    pub notes: Vec<String>,
    /// What to do about the problems.
    pub hints: Vec<String>,
    /// Every command that ran, in order (the login included).
    pub commands: Vec<CommandRecord>,
}

/// Whether the base-path repository exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BasePathStatus {
    Present,
    Missing,
    /// The registry did not say (its catalog could not be read).
    Unknown,
}

/// What became of listing the project's repositories (the registry's catalog).
#[derive(Clone, Debug, Serialize)]
pub struct Catalog {
    pub status: CatalogStatus,
    /// Why it was refused or failed, as the registry said it.
    pub error: Option<ErrorRecord>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CatalogStatus {
    Listed,
    /// The registry does not let this account list repositories (Harbor
    /// lets only some accounts do it).
    Refused,
    /// Listing failed for another reason.
    Failed,
    /// Not asked for (the view after a push).
    NotAsked,
}

/// Where a repository is, as Palette sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// Directly under the base path: a pack Palette lists.
    Pack,
    /// Deeper under the base path: Palette does not list it.
    Nested,
    /// Elsewhere in the project: Palette does not look there.
    Outside,
}

/// Whether a repository was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RepositoryStatus {
    Found,
    NotFound,
    /// Its tags could not be read.
    Unreadable,
}

/// One repository and its versions.
#[derive(Clone, Debug, Serialize)]
pub struct RepositoryRecord {
    /// The pack's name: the path under the base path (for a repository
    /// outside it, the path under the project).
    pub name: String,
    /// `REGISTRY/PROJECT/...`, without a tag.
    pub repository: String,
    pub place: Place,
    /// Named on the command line.
    pub requested: bool,
    pub status: RepositoryStatus,
    /// Palette can use every version of it, where it is.
    pub usable: bool,
    /// What is wrong with the repository itself (where it is, missing).
    pub problems: Vec<String>,
    pub notes: Vec<String>,
    /// Why its tags could not be read.
    pub error: Option<ErrorRecord>,
    /// Sorted as semantic versions; tags that are not come last.
    pub versions: Vec<VersionRecord>,
}

/// One tag of a repository.
#[derive(Clone, Debug, Serialize)]
pub struct VersionRecord {
    pub tag: String,
    /// `REGISTRY/PROJECT/.../NAME:TAG`.
    pub reference: String,
    pub manifest_digest: Option<String>,
    /// The single layer (the archive), when the manifest has exactly one.
    pub layer: Option<Layer>,
    /// The manifest's `org.opencontainers.image.created`.
    pub created: Option<String>,
    /// Palette can use this version: the 1.0.0 manifest shape, one layer
    /// titled NAME-VERSION.tar.gz, a tag that is a pack version (and with
    /// `--deep`, an archive that holds this very pack).
    pub usable: bool,
    pub problems: Vec<String>,
    /// Why the manifest could not be read.
    pub error: Option<ErrorRecord>,
    /// `--deep`: what the archive holds.
    pub archive: Option<ArchiveRecord>,
}

/// `--deep`: a version's archive, downloaded and checked.
#[derive(Clone, Debug, Serialize)]
pub struct ArchiveRecord {
    /// Its digest and size are the layer's, and it holds one pack folder
    /// whose pack.json names this repository and tag, within the pack rules.
    pub ok: bool,
    /// What its pack.json says, when it could be read.
    pub pack_name: Option<String>,
    pub pack_version: Option<String>,
    pub problems: Vec<String>,
    /// Doubts the pack rules raise that do not make it unusable.
    pub warnings: Vec<String>,
}

impl Listing {
    /// How many versions there are, and how many Palette cannot use.
    pub fn counts(&self) -> (usize, usize) {
        let versions = self.repositories.iter().flat_map(|r| &r.versions);
        versions.fold((0, 0), |(all, bad), v| {
            (all + 1, bad + usize::from(!v.usable))
        })
    }
}

impl Listing {
    fn empty(base_path: String, catalog: Catalog, deep: bool) -> Listing {
        Listing {
            base_path,
            base_path_status: BasePathStatus::Unknown,
            catalog,
            deep,
            repositories: Vec::new(),
            other_repositories: Vec::new(),
            usable: false,
            problems: Vec::new(),
            notes: Vec::new(),
            hints: Vec::new(),
            commands: Vec::new(),
        }
    }

    /// A pack named on the command line and not found under the base path
    /// may lie elsewhere in the project: the catalog says where.
    fn hint_elsewhere(&mut self, listed: &judge::Catalog) {
        let elsewhere = listed.outside.iter().cloned().chain(
            listed
                .under_base
                .iter()
                .map(|(n, _)| format!("{NAMESPACE}/{n}")),
        );
        let elsewhere: Vec<String> = elsewhere.collect();
        for repository in &mut self.repositories {
            if repository.status != RepositoryStatus::NotFound {
                continue;
            }
            let suffix = format!("/{}", repository.name);
            for path in elsewhere
                .iter()
                .filter(|p| p.ends_with(&suffix) || **p == repository.name)
            {
                repository.notes.push(format!(
                    "the project has a repository '{path}', which is not where Palette looks"
                ));
            }
        }
    }

    /// Whether Palette can use everything, each problem said once, and
    /// what to do (`fixes`: one per kind of problem, in order).
    fn conclude(&mut self, fixes: &[&'static str]) {
        if self.base_path_status == BasePathStatus::Missing {
            self.problems
                .push(format!("the base path {} does not exist", self.base_path));
        }
        if let Some(error) = &self.catalog.error {
            let said = format!("the repositories could not be listed: {}", error.message);
            if self.repositories.is_empty() && self.other_repositories.is_empty() {
                self.problems.push(said);
            } else {
                self.notes
                    .push(format!("{said}; only the packs named were read"));
            }
        }
        for repository in &self.repositories {
            self.problems.extend(repository.problem_lines());
        }
        let mut hints: Vec<String> = Vec::new();
        if self.base_path_status == BasePathStatus::Missing {
            hints.push(FIX_BASE.into());
        }
        hints.extend(fixes.iter().map(|f| f.to_string()));
        if let Some(error) = &self.catalog.error {
            hints.extend(error.hints.iter().cloned());
        }
        for hint in hints {
            if !self.hints.contains(&hint) {
                self.hints.push(hint);
            }
        }
        self.usable = self.problems.is_empty();
    }

    /// The failure `list` ends with when Palette cannot use everything.
    pub fn failure(&self) -> Option<Failure> {
        if self.usable {
            return None;
        }
        let (versions, unusable) = self.counts();
        let problems = self.problems.len();
        let message = match (&self.catalog.error, self.repositories.is_empty()) {
            (Some(error), true) => format!("cannot tell what Palette will find: {}", error.message),
            _ if unusable > 0 => {
                format!("Palette cannot use {unusable} of the {versions} versions listed")
            }
            _ => format!(
                "{problems} problem{} with what Palette will find in {}",
                if problems == 1 { "" } else { "s" },
                self.base_path
            ),
        };
        let mut failure = Failure::new(crate::error::Class::Verify, message);
        for problem in &self.problems {
            failure = failure.detail(problem.clone());
        }
        for hint in &self.hints {
            failure = failure.hint(hint.clone());
        }
        Some(failure)
    }
}

impl RepositoryRecord {
    fn new(target: &read::Target, repository: &str) -> RepositoryRecord {
        RepositoryRecord {
            name: target.name.clone(),
            repository: repository.to_string(),
            place: target.place,
            requested: target.requested,
            status: RepositoryStatus::Found,
            usable: false,
            problems: Vec::new(),
            notes: Vec::new(),
            error: None,
            versions: Vec::new(),
        }
    }

    fn not_found(&mut self) {
        self.status = RepositoryStatus::NotFound;
        self.problems
            .push(format!("there is no repository {}", self.repository));
    }

    fn unreadable(&mut self, failure: &Failure) {
        self.status = RepositoryStatus::Unreadable;
        self.problems.push(failure.message.clone());
        self.error = Some(ErrorRecord::from(failure));
    }

    /// Whether Palette can use it where it is. A repository outside the
    /// base path that holds no pack is not Palette's business: usable.
    fn conclude(&mut self, pack_like: bool) {
        match self.place {
            Place::Pack => {}
            Place::Nested => self.problems.push(format!(
                "it lies below {NAMESPACE}/ but not directly: Palette does not list it"
            )),
            Place::Outside if pack_like || self.requested => self.problems.push(format!(
                "it holds a pack outside {NAMESPACE}, where Palette does not look"
            )),
            Place::Outside => {
                self.usable = true;
                return;
            }
        }
        if self.status == RepositoryStatus::Found && self.versions.is_empty() {
            let said = "it holds no version (no tag): Palette lists nothing for it".to_string();
            if self.requested {
                self.problems.push(said);
            } else {
                self.notes.push(said);
            }
        }
        self.usable = self.problems.is_empty() && self.versions.iter().all(|v| v.usable);
    }

    /// The repository's problems and its versions', one line each.
    fn problem_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .problems
            .iter()
            .map(|p| format!("{} ({}): {p}", self.name, self.repository))
            .collect();
        if self.place != Place::Pack {
            return lines;
        }
        for version in self.versions.iter().filter(|v| !v.usable) {
            let archive = version.archive.iter().flat_map(|a| &a.problems);
            let all: Vec<&String> = version.problems.iter().chain(archive).collect();
            let all: Vec<&str> = all.iter().map(|p| p.as_str()).collect();
            lines.push(format!("{}:{}: {}", self.name, version.tag, all.join("; ")));
        }
        lines
    }
}

impl VersionRecord {
    fn new(tag: &str, reference: &str) -> VersionRecord {
        VersionRecord {
            tag: tag.to_string(),
            reference: reference.to_string(),
            manifest_digest: None,
            layer: None,
            created: None,
            usable: false,
            problems: Vec::new(),
            error: None,
            archive: None,
        }
    }

    fn unreadable(&mut self, failure: &Failure) {
        self.problems.push(failure.message.clone());
        self.error = Some(ErrorRecord::from(failure));
    }

    fn judged(&mut self, judged: Judged) {
        self.manifest_digest = Some(judged.manifest_digest);
        self.layer = judged.layer;
        self.created = judged.created;
        self.problems = judged.problems;
    }

    /// Usable: nothing wrong with it, its archive (with `--deep`) included,
    /// and where Palette looks.
    fn conclude(&mut self, place: Place) {
        if place != Place::Pack {
            self.problems.push(format!(
                "Palette does not see it: its repository is not directly under {NAMESPACE}"
            ));
        }
        let archive_ok = self.archive.as_ref().is_none_or(|a| a.ok);
        self.usable = self.problems.is_empty() && self.error.is_none() && archive_ok;
    }
}

impl ArchiveRecord {
    /// An archive that could not be downloaded or read.
    fn unread(failure: &Failure) -> ArchiveRecord {
        ArchiveRecord {
            ok: false,
            pack_name: None,
            pack_version: None,
            problems: vec![failure.message.clone()],
            warnings: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repository(name: &str, place: Place, requested: bool) -> RepositoryRecord {
        let target = read::Target {
            name: name.into(),
            place,
            requested,
            listed: true,
        };
        RepositoryRecord::new(&target, &format!("r/p/{name}"))
    }

    fn version(tag: &str, problems: &[&str]) -> VersionRecord {
        let mut version = VersionRecord::new(tag, &format!("r/p/x:{tag}"));
        version.problems = problems.iter().map(|p| p.to_string()).collect();
        version
    }

    #[test]
    fn where_a_repository_lies_decides_whether_palette_sees_it() {
        let mut pack = repository("a", Place::Pack, false);
        pack.versions.push(version("1.0.0", &[]));
        pack.versions[0].conclude(Place::Pack);
        pack.conclude(true);
        assert!(pack.usable && pack.problems.is_empty(), "{pack:#?}");

        let mut image = repository("library/nginx", Place::Outside, false);
        image.versions.push(version("1.25", &[]));
        image.versions[0].conclude(Place::Outside);
        image.conclude(false);
        assert!(
            image.usable,
            "not a pack, not Palette's business: {image:#?}"
        );

        let mut lost = repository("mypack", Place::Outside, false);
        lost.versions.push(version("1.0.0", &[]));
        lost.versions[0].conclude(Place::Outside);
        lost.conclude(true);
        assert!(!lost.usable);
        assert_eq!(lost.problem_lines().len(), 1, "{:?}", lost.problem_lines());

        let mut nested = repository("a/b", Place::Nested, false);
        nested.conclude(false);
        assert!(!nested.usable && nested.problems[0].contains("not directly"));
    }

    #[test]
    fn a_repository_without_versions_is_a_problem_only_when_named() {
        let mut listed = repository("a", Place::Pack, false);
        listed.conclude(false);
        assert!(listed.usable && listed.notes[0].contains("no version"));
        let mut named = repository("a", Place::Pack, true);
        named.conclude(false);
        assert!(!named.usable && named.problems[0].contains("no version"));
    }

    #[test]
    fn the_listing_names_each_problem_once_and_what_to_do() {
        let catalog = Catalog {
            status: CatalogStatus::Listed,
            error: None,
        };
        let mut listing = Listing::empty("r/p/spectro-packs/archive".into(), catalog, false);
        listing.base_path_status = BasePathStatus::Missing;
        let mut pack = repository("a", Place::Pack, false);
        pack.versions.push(version("1.0.0", &["one", "two"]));
        pack.versions.push(version("1.1.0", &[]));
        for v in &mut pack.versions {
            v.conclude(Place::Pack);
        }
        pack.conclude(true);
        listing.repositories.push(pack);
        listing.conclude(&[judge::FIX_SHAPE, judge::FIX_SHAPE]);
        assert!(!listing.usable);
        assert_eq!(
            listing.problems,
            [
                "the base path r/p/spectro-packs/archive does not exist",
                "a:1.0.0: one; two"
            ]
        );
        assert_eq!(listing.hints, [FIX_BASE, judge::FIX_SHAPE]);
        assert_eq!(listing.counts(), (2, 1));
        let failure = listing.failure().unwrap();
        assert_eq!(
            failure.message,
            "Palette cannot use 1 of the 2 versions listed"
        );
        assert_eq!(failure.exit_code(), 7);
        assert_eq!(failure.details, listing.problems);
    }
}
