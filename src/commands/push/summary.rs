//! What a person reads at the end of a push: the reference and digest of
//! the pack (a table for several), what the registry holds for it now (as
//! `packpush list` shows it), and what to enter in Palette.

use crate::engine::RunOutcome;
use crate::listing::{Listing, render};
use crate::plan::Plan;
use crate::record::{Archived, PackRecord, PackStatus};
use crate::tools::oras::Tls;
use crate::ui::{Level, Ui};
use crate::units::seconds;

pub fn print(
    plan: &Plan,
    outcome: &RunOutcome,
    packs: &[PackRecord],
    view: Option<&Listing>,
    tls: &Tls,
    ui: &Ui,
) {
    if ui.level() == Level::Quiet {
        return;
    }
    if packs.len() > 1 {
        table(packs, ui);
    } else {
        for pack in packs.iter().filter(|p| usable(p)) {
            single(plan, outcome, pack, ui);
        }
    }
    if let Some(view) = view {
        registry_view(view, ui);
    }
    palette(plan, packs, tls, ui);
}

/// The pushed packs' repositories as Palette will find them.
fn registry_view(view: &Listing, ui: &Ui) {
    ui.line("");
    ui.line("In the registry now (packpush list shows the whole project):");
    for repository in &view.repositories {
        for line in render::repository(repository, false) {
            ui.line(&format!("  {line}"));
        }
    }
}

/// Found up to date before archiving: tar did not run for it.
fn found_before_archiving(pack: &PackRecord) -> bool {
    pack.status == PackStatus::UpToDate
        && matches!(pack.archived, Some(Archived::None | Archived::Reused))
}

/// Pushed now or before: in the registry, verified.
fn usable(pack: &PackRecord) -> bool {
    matches!(pack.status, PackStatus::Pushed | PackStatus::UpToDate)
}

fn table(packs: &[PackRecord], ui: &Ui) {
    ui.line("");
    ui.line(&format!(
        "{:<28} {:<12} {:<11} {:<20} {:>8}",
        "PACK", "VERSION", "RESULT", "DIGEST", "TIME"
    ));
    for pack in packs {
        let result = match pack.status {
            PackStatus::Pushed => "pushed",
            PackStatus::UpToDate => "up to date",
            PackStatus::Failed => "FAILED",
            PackStatus::NotRun => "not run",
            PackStatus::Planned => "planned",
        };
        let digest = pack
            .manifest_digest
            .as_deref()
            .map(|d| d.chars().take(19).collect::<String>())
            .unwrap_or_else(|| "-".into());
        ui.line(&format!(
            "{:<28} {:<12} {:<11} {:<20} {:>8}",
            pack.name,
            pack.version,
            result,
            digest,
            seconds(std::time::Duration::from_millis(pack.duration_ms))
        ));
    }
    let found = packs.iter().filter(|p| found_before_archiving(p)).count();
    if found > 0 {
        ui.line(&format!(
            "{found} of {} found up to date before archiving: tar did not run for them",
            packs.len()
        ));
    }
}

fn single(plan: &Plan, outcome: &RunOutcome, pack: &PackRecord, ui: &Ui) {
    let verb = if pack.status == PackStatus::UpToDate {
        "current "
    } else {
        "pushed  "
    };
    ui.line(&format!("{verb} {}", pack.reference));
    ui.line(&format!(
        "digest   {}",
        pack.manifest_digest.as_deref().unwrap_or_default()
    ));
    if let Some(layer) = &pack.layer {
        ui.line(&format!(
            "layer    {} ({} bytes, title {})",
            layer.digest, layer.size, layer.title
        ));
    }
    if let Some(base) = &outcome.base_digest {
        ui.line(&format!("base     {}@{base}", plan.base_repository()));
    }
    if found_before_archiving(pack) {
        ui.line("found    up to date before archiving: tar did not run");
    }
    if pack.archive_kept && pack.status != PackStatus::Failed {
        ui.line(&format!("archive  {}", pack.archive));
    }
}

/// What to enter in Palette, and where the packs show up there.
fn palette(plan: &Plan, packs: &[PackRecord], tls: &Tls, ui: &Ui) {
    let names: Vec<String> = packs
        .iter()
        .filter(|p| usable(p))
        .map(|p| format!("{} {}", p.name, p.version))
        .collect();
    if names.is_empty() {
        return;
    }
    ui.line("");
    ui.line("In Palette: Tenant Settings > Registries > OCI Registries > Add New OCI Registry");
    ui.line(&format!(
        "  Provider: Pack   Authentication: Basic   Endpoint: {}",
        plan.registry
    ));
    ui.line(&format!("  Base Content Path: {}", plan.project));
    ui.line(&format!("  {}", tls_fields(tls)));
    let listed = if names.len() == 1 {
        format!("{} is", names[0])
    } else {
        format!("{} are", names.join(", "))
    };
    ui.line(&format!(
        "Then: Profiles > Add Cluster Profile (type Add-on) > Add Pack > pick this registry: {listed} listed."
    ));
}

/// What Palette needs to reach the registry as packpush did.
fn tls_fields(tls: &Tls) -> String {
    match tls {
        Tls::CaFile(ca) => format!("CA certificate: upload {ca}   Insecure Skip TLS Verify: off"),
        Tls::Insecure => "Insecure Skip TLS Verify: on (its certificate was not verified here \
                          either; uploading its CA certificate instead is safer)"
            .to_string(),
        Tls::PlainHttp => "Plain HTTP here: no CA certificate, Insecure Skip TLS Verify off \
                           (Palette must reach the registry without TLS too)"
            .to_string(),
        Tls::Verify => "CA certificate: none needed (the system trusts it)   \
                        Insecure Skip TLS Verify: off"
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_is_told_how_to_reach_the_registry_as_packpush_did() {
        assert_eq!(
            tls_fields(&Tls::CaFile("/etc/harbor/ca.pem".into())),
            "CA certificate: upload /etc/harbor/ca.pem   Insecure Skip TLS Verify: off"
        );
        let insecure = tls_fields(&Tls::Insecure);
        assert!(
            insecure.starts_with("Insecure Skip TLS Verify: on (its certificate was not verified"),
            "{insecure}"
        );
        assert!(tls_fields(&Tls::PlainHttp).starts_with("Plain HTTP here: no CA certificate"));
        assert!(tls_fields(&Tls::Verify).starts_with("CA certificate: none needed"));
    }
}
