//! Prints `render_statement` of a statement file (what `inspect --provenance` shows).
//! Usage: `cargo run -p ouk-provenance --example render -- STATEMENT.json`
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args_os()
        .nth(1)
        .ok_or("usage: render STATEMENT.json")?;
    print!(
        "{}",
        ouk_provenance::render_statement(&std::fs::read(path)?)
    );
    Ok(())
}
