//! The `open-notebook` binary; everything lives in the library.

fn main() -> std::process::ExitCode {
    open_notebook::cli::main()
}
