//! One module per subcommand.

pub mod check;
pub mod completions;
pub mod doctor;
pub mod guide;
pub mod list;
pub mod push;
