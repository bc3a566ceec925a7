//! The guided workflow's terminal side (`packpush guide`): the screens, the
//! progress display, text laid out for 80 columns, and Ctrl-C at a prompt.
//! The flow itself (the questions, the plan, the run) is `commands::guide`.

pub(crate) mod interrupt;
pub(crate) mod progress;
pub(crate) mod screen;
pub(crate) mod text;

use camino::Utf8PathBuf;

use crate::secret::Secret;

/// How the registry is reached: the TLS flags of `packpush push`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tls {
    PlainHttp,
    CaFile(Utf8PathBuf),
    Insecure,
    Verify,
}

/// Everything the push needs, from the command line, the environment or the person.
#[derive(Debug)]
pub(crate) struct Answers {
    pub(crate) registry: String,
    pub(crate) tls: Tls,
    pub(crate) project: String,
    pub(crate) pack_dir: Utf8PathBuf,
    pub(crate) username: String,
    pub(crate) password: Secret,
}
