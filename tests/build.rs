//! `cfg(hezuo_postgres)` when the tests are built with a PostgreSQL to run on, so that without
//! one its tests show as ignored instead of passing without running.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(hezuo_postgres)");
    println!("cargo::rerun-if-env-changed=HEZUO_TEST_DATABASE_URL");
    if std::env::var_os("HEZUO_TEST_DATABASE_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=hezuo_postgres");
    }
}
