//! The packpush binary: install the error hook, run, exit with the code.

fn main() -> color_eyre::Result<()> {
    color_eyre::install()?;
    std::process::exit(packpush::main());
}
