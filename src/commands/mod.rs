//! One module per subcommand.

pub mod check;
pub mod doctor;
pub mod push;
