//! Generates the LALRPOP parser from `grammar/pde.lalrpop` into `OUT_DIR/pde.rs`.
fn main() {
    println!("cargo:rerun-if-changed=grammar/pde.lalrpop");
    lalrpop::Configuration::new()
        .use_cargo_dir_conventions()
        .set_in_dir("grammar")
        .process()
        .expect("grammar/pde.lalrpop failed to generate");
}
