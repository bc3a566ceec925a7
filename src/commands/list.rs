//! `packpush list`: what Palette will find in a registry, read through
//! oras without changing anything (the preflight, the login into a private
//! folder, then `listing`), printed as a table or as JSON. Exit 0 when
//! Palette can use every version, 7 when it cannot use one.

use camino::Utf8Path;

use crate::cli::ListArgs;
use crate::error::{Class, Failure, Warning};

use crate::listing::{self, Reader, Request};
use crate::preflight::{self, Provenance, ReadyList, password};
use crate::process::Limits;
use crate::record::Tools;
use crate::report::Report;
use crate::signals;
use crate::tools::Found;
use crate::tools::oras::Oras;
use crate::ui::{Level, Ui};
use crate::workdir;

/// Runs `packpush list`. The report is complete on success and on failure.
pub fn cmd_list(
    args: ListArgs,
    provenance: &Provenance<'_>,
    ui: &Ui,
) -> (Report, Result<(), Failure>) {
    let mut report = Report::new("list");
    report.registry = args.connection.target.registry.clone();
    report.project = args.connection.target.project.clone();
    let result = list(&args, provenance, ui, &mut report);
    report.finish(result.as_ref().err());
    (report, result)
}

fn list(
    args: &ListArgs,
    provenance: &Provenance<'_>,
    ui: &Ui,
    report: &mut Report,
) -> Result<(), Failure> {
    let ready = preflight::check_list(args, provenance).map_err(|rejected| {
        report.tools = Tools::from(&rejected.tools);
        rejected.failure
    })?;
    announce(&ready, ui, report);
    let username = ready.username.as_deref().unwrap_or_default();
    let secret = password::take(&ready.password, username, &ready.registry)?;
    signals::catch()
        .map_err(|e| Failure::new(Class::Other, format!("cannot catch signals: {e}")))?;
    let (work, work_dir, swept) = workdir::create()?;
    for swept in &swept {
        let warning = Warning::Note(workdir::said(swept));
        ui.warning(&warning);
        report.warnings.push(warning.to_string());
    }
    let limits = Limits {
        total: args.limits.timeout.0,
        stall: args.limits.stall_timeout.0,
    };
    let oras = oras(&ready, &work_dir)?;
    let mut reader = Reader::new(
        oras,
        (&ready.registry, &ready.project),
        &work_dir,
        (args.limits.retries, limits, usize::from(args.jobs)),
        ui,
    );
    if let (Some(user), Some(secret)) = (&ready.username, &secret) {
        reader.login(user, secret)?;
    }
    let request = Request {
        names: &ready.names,
        base_path: None,
        deep: args.deep,
        read_back: &[],
    };
    let read = reader.read(&request);
    drop(work);
    let listing = read?;
    for line in listing::render::listing(&listing) {
        ui.line(&line);
    }
    let failure = listing.failure();
    report.listing = Some(listing);
    failure.map_or(Ok(()), Err)
}

/// The first line, the tool probes with `--verbose`, and the tools in the report.
fn announce(ready: &ReadyList, ui: &Ui, report: &mut Report) {
    let found = Found {
        oras: Some(ready.oras.clone()),
        tar: None,
    };
    report.tools = Tools::from(&found);
    if ui.level() == Level::Verbose {
        for line in found.probe_lines() {
            ui.line(&format!("  $ {line}"));
        }
    }
    ui.line(&format!(
        "packpush {}: what Palette finds in {}/{} (oras {})",
        env!("CARGO_PKG_VERSION"),
        ready.registry,
        ready.project,
        ready.oras.version
    ));
}

/// The oras commands of the run: its connection flags, and the login in
/// the private folder unless the user named a file (or `--skip-login`
/// uses oras's own store).
fn oras(ready: &ReadyList, work_dir: &Utf8Path) -> Result<Oras, Failure> {
    ready.registry_config.prepare(work_dir)?;
    let registry_config = ready.registry_config.file(work_dir);
    Ok(ready.oras.commands(&ready.tls, registry_config))
}
