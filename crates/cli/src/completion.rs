//! `rollwatch completion SHELL` and `rollwatch man DIR`: shell completions and man pages made
//! from the command line's own definition, so that they cannot drift from it.

use std::path::PathBuf;

use crate::exit::Code;

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
pub fn completion(mut command: clap::Command, args: CompletionArgs) -> anyhow::Result<Code> {
    clap_complete::generate(args.shell, &mut command, "rollwatch", &mut std::io::stdout());
    Ok(Code::Ready)
}

/// Writes the man pages and names each on standard output.
pub fn man(mut command: clap::Command, args: ManArgs) -> anyhow::Result<Code> {
    use anyhow::Context;
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
