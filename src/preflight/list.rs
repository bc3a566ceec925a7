//! The preflight of `packpush list`: oras (list needs no tar), the
//! registry, the project, the login, the pack names and the temporary
//! folder (the login and `--deep`'s downloads go there), every problem
//! reported at once before anything runs.

use super::{
    Checks, Password, Provenance, RegistryConfig, Rejected, password, verify_project,
    verify_registry, verify_registry_config, verify_temp_dir, verify_tls, verify_username,
};
use crate::cli::ListArgs;
use crate::error::{Class, Failure, preflight_result};
use crate::reference;
use crate::tools::oras::Tls;
use crate::tools::{self, FoundOras};

/// Everything the list preflight established.
#[derive(Debug)]
pub struct ReadyList {
    pub oras: FoundOras,
    pub registry: String,
    pub project: String,
    /// The packs named, each once, in the order given.
    pub names: Vec<String>,
    /// `None` with `--skip-login`.
    pub username: Option<String>,
    pub password: Password,
    pub tls: Tls,
    pub registry_config: RegistryConfig,
}

/// Checks every input of `packpush list`.
pub fn check_list(
    args: &ListArgs,
    provenance: &Provenance<'_>,
) -> Result<ReadyList, Box<Rejected>> {
    let mut checks = Checks::default();
    let connection = &args.connection;
    let found = tools::discover_oras(&args.oras, args.limits.timeout.0, &mut checks.problems);
    let registry = verify_registry(connection, provenance, &mut checks);
    let project = verify_project(connection, provenance, &mut checks);
    let names = verify_names(&args.names, &mut checks);
    let username = verify_username(connection, &mut checks);
    let password = if connection.skip_login {
        Password::NotNeeded
    } else {
        password::source(connection, &mut checks.problems)
    };
    let tls = verify_tls(connection, &mut checks);
    let registry_config = verify_registry_config(connection, &mut checks);
    verify_temp_dir(&mut checks);
    if let Err(failure) = preflight_result(checks.problems) {
        return Err(Box::new(Rejected {
            failure,
            tools: found,
        }));
    }
    match (found.oras.clone(), registry, project) {
        (Some(oras), Some(registry), Some(project)) => Ok(ReadyList {
            oras,
            registry,
            project,
            names,
            username,
            password,
            tls,
            registry_config,
        }),
        _ => Err(Box::new(Rejected {
            failure: Failure::new(
                Class::Other,
                "the preflight stopped without naming a problem",
            ),
            tools: found,
        })),
    }
}

/// Each NAME is a pack's repository name under the base path.
fn verify_names(names: &[String], checks: &mut Checks) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for name in names {
        checks.keep(reference::check_component(
            name,
            "pack name",
            "on the command line",
        ));
        if !kept.contains(name) {
            kept.push(name.clone());
        }
    }
    kept
}
