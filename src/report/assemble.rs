//! A push's report from its plan and how the run went: every planned step
//! (run, not reached, or planned in a dry run) and every pack's result.

use crate::engine::PackOutcome;
use crate::plan::{BASE_DIGEST_PLACEHOLDER, PackPlan, Plan};
use crate::record::{CommandRecord, PackRecord, PackStatus, Status, StepRecord};
use crate::units::millis;

/// Every step of the plan as a dry run lists it.
pub fn planned_steps(plan: &Plan) -> Vec<StepRecord> {
    plan.ordered_steps()
        .into_iter()
        .map(|view| StepRecord {
            number: view.step.number,
            kind: view.step.kind,
            pack: view.pack.map(PackPlan::label),
            purpose: view.step.purpose.clone(),
            status: if view.step.skipped.is_some() {
                Status::Skipped
            } else {
                Status::Planned
            },
            note: view.step.skipped.clone(),
            duration_ms: 0,
            commands: view
                .commands
                .into_iter()
                .map(CommandRecord::planned)
                .collect(),
        })
        .collect()
}

/// The steps that ran, then every planned step a failure kept from running,
/// as `not_run`, so the report lists the whole procedure; with the base
/// path's digest in their commands once step 3 made it known.
pub fn with_steps_not_reached(
    plan: &Plan,
    ran: &[StepRecord],
    base_digest: Option<&str>,
) -> Vec<StepRecord> {
    let mut steps = ran.to_vec();
    for planned in planned_steps(plan) {
        let reached = ran
            .iter()
            .any(|r| r.number == planned.number && r.pack == planned.pack);
        if reached {
            continue;
        }
        let mut commands = planned.commands.clone();
        if let Some(digest) = base_digest {
            for arg in commands.iter_mut().flat_map(|c| c.argv.iter_mut()) {
                *arg = arg.replace(BASE_DIGEST_PLACEHOLDER, digest);
            }
        }
        steps.push(StepRecord {
            status: Status::NotRun,
            note: None,
            commands,
            ..planned
        });
    }
    steps
}

/// One pack's record: planned (`result` is `None`), or how it ended.
pub fn pack_record(
    pack: &PackPlan,
    result: Option<&PackOutcome>,
    base_digest: Option<&str>,
    kept: bool,
) -> PackRecord {
    PackRecord {
        name: pack.target.name.clone(),
        version: pack.target.version.clone(),
        reference: pack.target.pack_reference(),
        source: pack.source.clone(),
        archive: pack.archive.to_string(),
        archive_kept: result.is_some() && kept,
        archived: result.and_then(|r| r.archived),
        status: result.map_or(PackStatus::Planned, |r| r.status),
        manifest_digest: result.and_then(|r| r.manifest_digest.clone()),
        base_digest: result.and(base_digest.map(str::to_string)),
        layer: result.and_then(|r| r.layer.clone()),
        duration_ms: result.map_or(0, |r| millis(r.duration)),
        error: result.and_then(|r| r.failure.as_ref().map(Into::into)),
    }
}
