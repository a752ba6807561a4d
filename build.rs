fn main() {
    // Migrations are embedded at compile time; rebuild when they change.
    println!("cargo:rerun-if-changed=migrations");

    // Tests that need PostgreSQL or a browser are marked ignored, with the
    // reason, when the environment does not provide them, so that plain
    // `cargo test` says what it did not run instead of showing a pass.
    println!("cargo::rustc-check-cfg=cfg(rapport_no_postgres)");
    println!("cargo::rustc-check-cfg=cfg(rapport_no_browser)");
    println!("cargo:rerun-if-env-changed=RAPPORT_TEST_POSTGRES_URL");
    println!("cargo:rerun-if-env-changed=RAPPORT_CHROMIUM");
    if std::env::var_os("RAPPORT_TEST_POSTGRES_URL").is_none() {
        println!("cargo:rustc-cfg=rapport_no_postgres");
    }
    if std::env::var_os("RAPPORT_CHROMIUM").is_none() {
        println!("cargo:rustc-cfg=rapport_no_browser");
    }
}
