//! The `sip-interop` binary.

fn main() -> std::process::ExitCode {
    sip_interop_host::cli::main()
}
