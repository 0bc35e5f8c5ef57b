//! `cargo containerize`: see `cargo containerize --help`.

fn main() -> std::process::ExitCode {
    containerize::cli::main()
}
