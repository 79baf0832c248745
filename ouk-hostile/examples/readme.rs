//! Regenerates `testdata/hostile/README.md` from the case list:
//! `cargo run -p ouk-hostile --example readme > testdata/hostile/README.md`.

fn main() {
    print!("{}", ouk_hostile::readme());
}
