//! Generates include/sip_interop.h from src/ with cbindgen. The header is committed; a build that
//! changes it shows up in `git status`, and tests/c_abi.rs compiles a C program against it.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let config = cbindgen::Config::from_file(format!("{dir}/cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    let header = cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let path = std::path::Path::new(&dir).join("include/sip_interop.h");
    // write_to_file writes only when the content changed (keeps mtimes, and rebuilds, quiet).
    header.write_to_file(path);
}
