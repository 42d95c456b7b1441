//! `rollwatch completion SHELL` and `rollwatch man DIR`: shell completions and man pages made
//! from the command line's own definition, so that they cannot drift from it.

use std::path::PathBuf;

use anyhow::bail;

use crate::exit::Code;
use crate::{Global, Output};

#[derive(clap::Args, Debug)]
pub struct CompletionArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(clap::Args, Debug)]
pub struct ManArgs {
    /// The directory to write rollwatch.1 and one page per command (rollwatch-wait.1, ...) into.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

/// Prints the completion script for `args.shell`.
pub fn completion(mut command: clap::Command, global: &Global, args: CompletionArgs) -> anyhow::Result<Code> {
    text_only("completion prints a shell script", global)?;
    clap_complete::generate(args.shell, &mut command, "rollwatch", &mut std::io::stdout());
    Ok(Code::Ready)
}

/// Writes the man pages and names each on standard output.
pub fn man(mut command: clap::Command, global: &Global, args: ManArgs) -> anyhow::Result<Code> {
    use anyhow::Context;
    text_only("man writes man pages", global)?;
    // Built, the commands carry the global flags too.
    command.build();
    std::fs::create_dir_all(&args.dir).with_context(|| format!("creating {}", args.dir.display()))?;
    let mut pages = vec![(String::from("rollwatch"), command.clone().bin_name("rollwatch"))];
    pages.extend(command.get_subcommands().filter(|sub| !sub.is_hide_set() && sub.get_name() != "help").map(|sub| {
        let page = sub.clone().display_name(format!("rollwatch-{}", sub.get_name())).bin_name(format!("rollwatch {}", sub.get_name()));
        (format!("rollwatch-{}", sub.get_name()), page)
    }));
    for (name, page) in pages {
        let path = args.dir.join(format!("{name}.1"));
        let mut text = Vec::new();
        clap_mangen::Man::new(page).render(&mut text)?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(Code::Ready)
}

/// Refuses `-o json|yaml|name` for a command whose output has one form only, rather than ignore it.
fn text_only(what: &str, global: &Global) -> anyhow::Result<()> {
    if global.output != Output::Text {
        let asked = clap::ValueEnum::to_possible_value(&global.output).map(|value| value.get_name().to_string()).unwrap_or_default();
        bail!("{what}, which has no -o {asked} form: leave -o out");
    }
    Ok(())
}
