//! What a listing looks like to people: the base path, then one section per
//! repository with a row per version (what Palette makes of it, the
//! archive's size, when it was made, the manifest's digest) and, under a
//! version Palette cannot use, why. `push` and `guide` show the sections of
//! the packs they pushed.

use indicatif::HumanBytes;

use super::{BasePathStatus, CatalogStatus, Listing, Place, RepositoryRecord, RepositoryStatus};

/// The whole listing, as `packpush list` prints it.
pub fn listing(listing: &Listing) -> Vec<String> {
    let status = match listing.base_path_status {
        BasePathStatus::Present => "present",
        BasePathStatus::Missing => "MISSING",
        BasePathStatus::Unknown => "unknown",
    };
    let mut lines = vec![format!("base path  {}  {status}", listing.base_path)];
    if let (CatalogStatus::Refused | CatalogStatus::Failed, Some(error)) =
        (listing.catalog.status, &listing.catalog.error)
    {
        lines.push(format!("catalog    {}", error.message));
    }
    for repository in &listing.repositories {
        lines.push(String::new());
        lines.extend(self::repository(repository, listing.deep));
    }
    if !listing.other_repositories.is_empty() {
        lines.push(String::new());
        lines.push(format!(
            "not packs, not Palette's: {}",
            listing.other_repositories.join(", ")
        ));
    }
    lines.push(String::new());
    lines.extend(listing.notes.iter().map(|n| format!("note: {n}")));
    // When something is wrong, the error says what to do; else the notes need it.
    if listing.usable {
        lines.extend(listing.hints.iter().map(|h| format!("hint: {h}")));
    }
    lines.push(verdict(listing));
    lines
}

/// One repository: its name and place, then its versions.
pub fn repository(repository: &RepositoryRecord, deep: bool) -> Vec<String> {
    let mut lines = vec![format!("{}  {}", repository.name, repository.repository)];
    lines.extend(repository.problems.iter().map(|p| format!("  ! {p}")));
    lines.extend(repository.notes.iter().map(|n| format!("  note: {n}")));
    if repository.status != RepositoryStatus::Found || repository.versions.is_empty() {
        return lines;
    }
    let width = repository
        .versions
        .iter()
        .map(|v| v.tag.len())
        .max()
        .unwrap_or(0)
        .max("VERSION".len());
    let archive = if deep { "ARCHIVE  " } else { "" };
    lines.push(format!(
        "  {:<width$}  PALETTE  {archive}{:<11}  {:<20}  DIGEST",
        "VERSION", "SIZE", "CREATED"
    ));
    for version in &repository.versions {
        let usable = if version.usable { "ok" } else { "NO" };
        let archive = match (&version.archive, deep) {
            (_, false) => String::new(),
            (Some(a), true) => format!("{:<7}  ", if a.ok { "ok" } else { "NO" }),
            (None, true) => format!("{:<7}  ", "-"),
        };
        let size = version
            .layer
            .as_ref()
            .map_or_else(|| "-".to_string(), |l| HumanBytes(l.size).to_string());
        let digest = version
            .manifest_digest
            .as_deref()
            .map_or_else(|| "-".to_string(), |d| d.chars().take(19).collect());
        lines.push(format!(
            "  {:<width$}  {usable:<7}  {archive}{size:<11}  {:<20}  {digest}",
            version.tag,
            version.created.as_deref().unwrap_or("-"),
        ));
        // Where the repository is, said above, is all that matters for
        // versions Palette does not see.
        if repository.place != Place::Pack {
            continue;
        }
        let pad = " ".repeat(width + 4);
        let archive_problems = version.archive.iter().flat_map(|a| &a.problems);
        for problem in version.problems.iter().chain(archive_problems) {
            lines.push(format!("{pad}{problem}"));
        }
    }
    lines
}

/// The last line: how many versions Palette can use.
fn verdict(listing: &Listing) -> String {
    let (versions, unusable) = listing.counts();
    let listed = match versions {
        0 => "no version is listed".to_string(),
        1 => "the one version listed".to_string(),
        2 => "both versions listed".to_string(),
        n => format!("all {n} versions listed"),
    };
    match (listing.usable, unusable) {
        (true, 0) if versions == 0 => "Palette finds no pack version here.".to_string(),
        (true, _) => format!("Palette can use {listed}."),
        (false, 0) => "Not everything Palette needs is right (above).".to_string(),
        (false, _) => format!("Palette cannot use {unusable} of the {versions} versions listed."),
    }
}
