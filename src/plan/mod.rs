//! The push as data: every step with its purpose and its whole commands,
//! built before anything runs. `--dry-run` prints it (`script`); execution
//! walks it (`engine`); reports list it; tests assert on it. Building a plan
//! does no I/O.
//!
//! Several packs share one login (step 1) and one base-path push (step 3);
//! each pack has its own archive step (2), pack push (4, with a read-only
//! look-up of the tag first) and verification (5). Every pack's
//! state-changing steps keep the documented order: login, tar, empty
//! base-path push, pack push.
//!
//! With the archive cache, step 2 of a pack folder first computes the
//! folder's fingerprint ([`Recall`]); when the cache knows the archive that
//! content gives, the read-only look-up of the tag runs before tar, and a
//! registry that holds that archive makes the pack up to date: tar does not
//! run, and steps 3 to 5 have nothing to do for it.

pub mod script;

use camino::Utf8PathBuf;
use serde::Serialize;

use crate::error::Class;
use crate::pack::Source;
use crate::pack::fingerprint::View;
use crate::preflight::{PackInput, Ready, RegistryConfig};
use crate::process::Command;
use crate::reference::{self, Target};
use crate::tools::oras::{Oras, Push};
use crate::tools::tar::{Archive as ArchiveToMake, Tar};

/// The steps of the documented procedure, in their documented order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Login,
    Archive,
    PushBase,
    PushPack,
    Verify,
}

impl StepKind {
    /// The step's number, fixed so that "step 3" always means the same thing.
    pub fn number(self) -> usize {
        match self {
            StepKind::Login => 1,
            StepKind::Archive => 2,
            StepKind::PushBase => 3,
            StepKind::PushPack => 4,
            StepKind::Verify => 5,
        }
    }

    /// Which failure class (and so exit code) a failure of this step has.
    pub fn failure_class(self) -> Class {
        match self {
            StepKind::Login => Class::Login,
            StepKind::Archive => Class::Archive,
            StepKind::PushBase | StepKind::PushPack => Class::Push,
            StepKind::Verify => Class::Verify,
        }
    }

    /// What the registry may hold if the run stopped during this step.
    pub fn registry_state_if_stopped(self) -> &'static str {
        match self {
            StepKind::Login | StepKind::Archive => "nothing was pushed to the registry",
            StepKind::PushBase => {
                "the empty base-path artifact may or may not have been pushed (harmless; a re-run pushes it again)"
            }
            StepKind::PushPack => {
                "the base-path artifact is in the registry; the pack's tag may be missing or complete \
                 (a re-run finishes it; uploaded blobs are reused)"
            }
            StepKind::Verify => "the pack was pushed, but not yet verified",
        }
    }

    /// What the registry holds when a command of this step stopped it; a
    /// read-only command of the pack push (the look-up) pushed nothing yet.
    pub fn registry_state(self, command: &Command) -> &'static str {
        match self {
            StepKind::PushPack if command.read_only => {
                "the base-path artifact is in the registry; nothing was pushed for this pack"
            }
            _ => self.registry_state_if_stopped(),
        }
    }

    /// Whether a command of this step that fails says what the registry
    /// holds (from the base-path push on; before, nothing was pushed).
    pub fn reports_registry_state(self) -> bool {
        matches!(
            self,
            StepKind::PushBase | StepKind::PushPack | StepKind::Verify
        )
    }
}

/// What every step has: what it is, what it is for, and why it runs
/// nothing, if it does not.
#[derive(Clone, Debug)]
pub struct Step {
    pub kind: StepKind,
    pub number: usize,
    /// One line of intent, used in announcements and errors.
    pub purpose: String,
    /// Why the step runs no command (e.g. `--skip-login`), if it does not.
    pub skipped: Option<String>,
}

impl Step {
    fn new(kind: StepKind, purpose: String) -> Step {
        Step {
            kind,
            number: kind.number(),
            purpose,
            skipped: None,
        }
    }

    fn skipped(mut self, why: impl Into<String>) -> Step {
        self.skipped = Some(why.into());
        self
    }
}

/// Step 1: `oras login`, unless `--skip-login`.
#[derive(Clone, Debug)]
pub struct LoginStep {
    pub step: Step,
    pub login: Option<Command>,
}

/// Step 2: tar, or the check of a carried-in archive (no command).
#[derive(Clone, Debug)]
pub struct ArchiveStep {
    pub step: Step,
    pub tar: Option<Command>,
    /// What the archive cache needs to find this pack up to date before tar
    /// runs, when the cache is used.
    pub recall: Option<Recall>,
}

/// A pack folder's fingerprint, and the look-up that runs before tar when
/// the cache knows the archive of that content.
#[derive(Clone, Debug)]
pub struct Recall {
    /// The pack folder and its name in the archive.
    pub folder: Utf8PathBuf,
    pub folder_name: String,
    /// What of the files counts: with `--reproducible`, only the content.
    pub view: View,
    /// What else shapes the archive: the tools, their variables, tar's flags.
    pub context: String,
    /// The read-only look-up of the pack's tag (as in step 4).
    pub lookup: Command,
}

/// Step 3: the empty base-path artifact.
#[derive(Clone, Debug)]
pub struct BaseStep {
    pub step: Step,
    pub push: Command,
    /// Where oras writes the manifest it pushed.
    pub manifest: Utf8PathBuf,
}

/// Step 4: the read-only look-up of the tag, then the pack push.
#[derive(Clone, Debug)]
pub struct PushStep {
    pub step: Step,
    /// `oras manifest fetch NAME:VERSION`: is this version there already?
    pub lookup: Command,
    pub push: Command,
    /// Where oras writes the manifest it pushed.
    pub manifest: Utf8PathBuf,
}

/// Step 5: the pack's manifest read back (and the base path's, once a run).
#[derive(Clone, Debug)]
pub struct VerifyStep {
    pub step: Step,
    pub fetch: Command,
    /// The tags of the pack's repository, read beside `fetch` for the view
    /// a push ends with (as `packpush list` reads them). Not part of the
    /// procedure: the dry run and its script leave it out.
    pub tags: Command,
}

/// One pack's part of the plan.
#[derive(Clone, Debug)]
pub struct PackPlan {
    pub target: Target,
    /// The pack folder or the carried-in archive.
    pub source: String,
    /// Where the archive is (written by step 2, or carried in).
    pub archive: Utf8PathBuf,
    /// Whether packpush writes the archive (and so may remove it).
    pub archive_written: bool,
    pub archive_step: ArchiveStep,
    pub push: PushStep,
    pub verify: VerifyStep,
}

impl PackPlan {
    /// `name:version`, to label the pack in output.
    pub fn label(&self) -> String {
        format!("{}:{}", self.target.name, self.target.version)
    }
}

/// Where the run keeps its files.
#[derive(Clone, Debug)]
pub struct Layout {
    /// Private folder: the login (unless given) and the exported manifests.
    pub work_dir: Utf8PathBuf,
    /// Where archives are written.
    pub output_dir: Utf8PathBuf,
    /// The archives stay there after the run (`--output-dir`).
    pub archives_kept: bool,
}

impl Layout {
    fn base_manifest(&self) -> Utf8PathBuf {
        self.work_dir.join("base-manifest.json")
    }

    fn pack_manifest(&self, index: usize) -> Utf8PathBuf {
        self.work_dir.join(format!("pack-{index}-manifest.json"))
    }
}

/// The whole push, before it runs.
#[derive(Clone, Debug)]
pub struct Plan {
    pub registry: String,
    pub project: String,
    /// How the plan's oras commands are built (for reads after the run); its
    /// `tls` is how every oras call reaches the registry.
    pub oras: Oras,
    /// The private login file to create before step 1 (`{}`), if any.
    pub private_login: Option<Utf8PathBuf>,
    pub login: LoginStep,
    pub base: BaseStep,
    pub packs: Vec<PackPlan>,
    /// The base path read back by the first pack verified, once its digest
    /// is known (filled in for [`BASE_DIGEST_PLACEHOLDER`]).
    pub base_readback: Command,
    /// The archive cache's folder, when it is used.
    pub cache_dir: Option<Utf8PathBuf>,
    /// The archives stay in `--output-dir` after the run.
    pub archives_kept: bool,
    /// `--reproducible`: file times and owners are not in the archives.
    pub reproducible: bool,
}

/// Placeholder shown for the base-path digest before step 3 has run.
pub const BASE_DIGEST_PLACEHOLDER: &str = "<digest from step 3>";

/// One step as people and reports see it: its pack, its header, and the
/// commands listed under it, in order.
#[derive(Debug)]
pub struct StepView<'a> {
    pub pack: Option<&'a PackPlan>,
    pub step: &'a Step,
    pub commands: Vec<&'a Command>,
}

/// The programs, as the plan builds their commands, and what shapes every
/// archive, when the cache is used.
struct Builders {
    oras: Oras,
    tar: Tar,
    shapers: Option<String>,
}

impl Plan {
    /// The plan of what the preflight established, its files in `layout`.
    pub fn build(ready: &Ready, layout: &Layout) -> Plan {
        let registry_config = ready.registry_config.file(&layout.work_dir);
        let tools = Builders {
            oras: ready.oras.commands(&ready.tls, registry_config.clone()),
            tar: Tar {
                program: ready.tar.program.clone(),
                compress_program: ready.compress_program.clone(),
            },
            shapers: ready.cache.as_ref().map(|c| c.shapers.clone()),
        };
        let base_repository = reference::base_repository(&ready.registry, &ready.project);
        let packs = ready
            .packs
            .iter()
            .enumerate()
            .map(|(index, input)| pack_plan(&tools, layout, index, input))
            .collect();
        Plan {
            registry: ready.registry.clone(),
            project: ready.project.clone(),
            oras: tools.oras.clone(),
            private_login: registry_config
                .filter(|_| ready.registry_config == RegistryConfig::Private),
            login: login_step(&tools, &ready.registry, ready.username.as_deref(), layout),
            base: base_step(
                &tools,
                &base_repository,
                ready.base_created.as_deref(),
                layout,
            ),
            packs,
            base_readback: tools.oras.fetch_manifest(
                &format!("{base_repository}@{BASE_DIGEST_PLACEHOLDER}"),
                format!("read back the base path {base_repository}"),
                &layout.work_dir,
            ),
            cache_dir: ready.cache.as_ref().map(|c| c.dir.clone()),
            archives_kept: layout.archives_kept,
            reproducible: ready.base_created.is_some(),
        }
    }

    /// The base-path repository: `REGISTRY/PROJECT/spectro-packs/archive`.
    pub fn base_repository(&self) -> String {
        reference::base_repository(&self.registry, &self.project)
    }

    /// Every step in the order a single-worker run executes them, with the
    /// pack each belongs to and its commands: 1, every 2, 3, then 4 and 5
    /// per pack. The base path's read-back is listed under the first
    /// pack's verification.
    pub fn ordered_steps(&self) -> Vec<StepView<'_>> {
        let view = |pack, step, commands| StepView {
            pack,
            step,
            commands,
        };
        let mut steps = vec![view(
            None,
            &self.login.step,
            self.login.login.iter().collect(),
        )];
        for pack in &self.packs {
            let archive = &pack.archive_step;
            let lookup = archive.recall.as_ref().map(|r| &r.lookup);
            let commands = lookup.into_iter().chain(archive.tar.as_ref()).collect();
            steps.push(view(Some(pack), &archive.step, commands));
        }
        steps.push(view(None, &self.base.step, vec![&self.base.push]));
        for (index, pack) in self.packs.iter().enumerate() {
            let push = vec![&pack.push.lookup, &pack.push.push];
            steps.push(view(Some(pack), &pack.push.step, push));
            let mut reads = vec![&pack.verify.fetch];
            if index == 0 {
                reads.push(&self.base_readback);
            }
            steps.push(view(Some(pack), &pack.verify.step, reads));
        }
        steps
    }
}

fn login_step(
    tools: &Builders,
    registry: &str,
    username: Option<&str>,
    layout: &Layout,
) -> LoginStep {
    let step = Step::new(StepKind::Login, format!("log in to {registry}"));
    match username {
        Some(user) => LoginStep {
            step,
            login: Some(tools.oras.login(registry, user, &layout.work_dir)),
        },
        None => LoginStep {
            step: step.skipped("--skip-login: using stored credentials"),
            login: None,
        },
    }
}

fn base_step(
    tools: &Builders,
    base_repository: &str,
    created: Option<&str>,
    layout: &Layout,
) -> BaseStep {
    let purpose = format!("create the base path {base_repository}");
    let manifest = layout.base_manifest();
    let push = tools.oras.push(
        Push {
            purpose: &purpose,
            reference: base_repository,
            file: None,
            export_manifest: &manifest,
            created,
        },
        &layout.work_dir,
    );
    BaseStep {
        step: Step::new(StepKind::PushBase, purpose),
        push,
        manifest,
    }
}

fn pack_plan(tools: &Builders, layout: &Layout, index: usize, input: &PackInput) -> PackPlan {
    let target = &input.target;
    let reference = target.pack_reference();
    let archive_name = target.archive_name();
    let lookup = tools.oras.fetch_manifest(
        &reference,
        format!("the read-only look-up of {reference}"),
        &layout.work_dir,
    );
    let (archive, push_dir, archive_step) = archive_step(tools, layout, input, &lookup);
    let manifest = layout.pack_manifest(index);
    let purpose = format!("push the pack to {reference}");
    let push = PushStep {
        lookup,
        push: tools.oras.push(
            Push {
                purpose: &purpose,
                reference: &reference,
                file: Some(&archive_name),
                export_manifest: &manifest,
                created: input.created.as_deref(),
            },
            &push_dir,
        ),
        step: Step::new(StepKind::PushPack, purpose),
        manifest,
    };
    let purpose = format!("verify what the registry holds for {reference}");
    let repository = target.pack_repository();
    let verify = VerifyStep {
        fetch: tools
            .oras
            .fetch_manifest(&reference, purpose.clone(), &layout.work_dir),
        tags: tools.oras.list_tags(
            &repository,
            format!("list the tags of {repository}"),
            &layout.work_dir,
        ),
        step: Step::new(StepKind::Verify, purpose),
    };
    PackPlan {
        target: target.clone(),
        source: input.source.describe(),
        archive_written: archive_step.tar.is_some(),
        archive,
        archive_step,
        push,
        verify,
    }
}

/// Step 2 of one pack, the archive's path and the folder `oras push` runs
/// in (the archive's own, so that the layer's title is its bare name).
fn archive_step(
    tools: &Builders,
    layout: &Layout,
    input: &PackInput,
    lookup: &Command,
) -> (Utf8PathBuf, Utf8PathBuf, ArchiveStep) {
    match &input.source {
        Source::Folder(dir) => {
            let archive = layout.output_dir.join(input.target.archive_name());
            let tar = tools.tar.create(ArchiveToMake {
                archive: &archive,
                folder_name: &dir.folder_name,
                parent: &dir.parent,
                fixed_mtime: input.fixed_mtime,
            });
            let recall = tools.shapers.as_ref().map(|shapers| Recall {
                folder: dir.path.clone(),
                folder_name: dir.folder_name.clone(),
                view: if input.fixed_mtime.is_some() {
                    View::Content
                } else {
                    View::Full
                },
                context: recall_context(shapers, &tar, &archive),
                lookup: lookup.clone(),
            });
            let step = ArchiveStep {
                step: Step::new(StepKind::Archive, tar.purpose.clone()),
                tar: Some(tar),
                recall,
            };
            (archive, layout.output_dir.clone(), step)
        }
        Source::Archive(carried) => {
            let purpose = format!(
                "use the archive {} (checked: it holds {}/pack.json)",
                carried.path, carried.folder_name
            );
            let step = ArchiveStep {
                step: Step::new(StepKind::Archive, purpose)
                    .skipped("--archive: built elsewhere, checked by the preflight"),
                tar: None,
                recall: None,
            };
            (carried.path.clone(), carried.dir.clone(), step)
        }
    }
}

/// What shapes a pack's archive besides its files: the run's tools and
/// their variables, and tar's arguments (where the archive goes does not
/// count: tar writes the same bytes anywhere).
fn recall_context(shapers: &str, tar: &Command, archive: &Utf8PathBuf) -> String {
    let args: Vec<String> = tar
        .args
        .iter()
        .map(|a| a.replace(archive.as_str(), "ARCHIVE"))
        .collect();
    format!("{shapers}args {}\n", shell_words::join(args))
}

#[cfg(test)]
mod tests;
