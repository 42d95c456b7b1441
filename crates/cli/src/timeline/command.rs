//! `rollwatch timeline RUN.jsonl -o FILE.html`: the picture of a saved `-o json` run (a CI
//! artifact), the same one `--timeline` writes at the end of a run.
//!
//! Its `-o` names the file to write, where every other command's `-o` is the output format: the
//! command is parsed on its own (see `main`), as clap cannot give one subcommand a flag of the
//! same name as a global one.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Parser;
use serde_json::Value;

use super::{Run, html};
use crate::exit::Code;
use crate::sanitize::inline;

/// Draw a saved `-o json` run as one self-contained HTML file (inline SVG, no scripts): one lane
/// per pod by workload and revision, verdict changes, restarts, warning events and the waves the
/// model predicted.
#[derive(Debug, Parser)]
#[command(name = "rollwatch timeline", after_help = crate::exit::help())]
pub struct Args {
    /// The run's JSON lines (`rollwatch apply ... -o json > RUN.jsonl`); `-` reads standard input.
    #[arg(value_name = "RUN.jsonl")]
    run: PathBuf,
    /// The HTML file to write.
    #[arg(short = 'o', long = "output", value_name = "FILE.html")]
    output: PathBuf,
}

/// Parses `args` (what follows `timeline`) and runs the command.
pub fn run(args: impl IntoIterator<Item = OsString>) -> Code {
    let args = match Args::try_parse_from(std::iter::once(OsString::from("rollwatch timeline")).chain(args)) {
        Ok(args) => args,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() { Code::Usage } else { Code::Ready };
        }
    };
    match draw(&args) {
        Ok(pods) => {
            eprintln!("timeline of {pods} pod(s) written to {}", inline(&args.output.display().to_string()));
            Code::Ready
        }
        Err(message) => {
            eprintln!("error: {}\n(exit code {}: {})", inline(&message), Code::Usage as u8, Code::Usage.meaning());
            Code::Usage
        }
    }
}

/// Reads, draws and writes; the number of pod lanes drawn, or what is wrong, naming the file and
/// the line.
fn draw(args: &Args) -> Result<usize, String> {
    let name = args.run.display().to_string();
    let text = if name == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| format!("cannot read standard input: {e}"))?
    } else {
        std::fs::read_to_string(&args.run).map_err(|e| format!("cannot read {name}: {e}"))?
    };
    let mut lines = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line).map_err(|e| format!("{name} line {}: not JSON: {e}", index + 1))?;
        lines.push((index + 1, value));
    }
    if lines.is_empty() {
        return Err(format!("{name}: no JSON lines (save a run with `rollwatch ... -o json > {name}`)"));
    }
    let run = Run::from_numbered(lines.iter().map(|(number, line)| (*number, line))).map_err(|e| format!("{name} line {}: {}", e.line, e.message))?;
    let output = args.output.display().to_string();
    std::fs::write(&args.output, html::render(&run)).map_err(|e| format!("cannot write {output}: {e}"))?;
    Ok(run.pods().count())
}
