//! Reading objects from `-f` arguments: files, directories (optionally recursive) and stdin.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use rollwatch_verdict::{Manifest, parse_manifests};

/// File names kubectl reads from a directory.
const MANIFEST_EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Every object in the `-f` arguments, in order; `-` reads standard input (once).
pub fn read_all(sources: &[PathBuf], recursive: bool) -> anyhow::Result<Vec<Manifest>> {
    let mut manifests = Vec::new();
    let mut stdin_read = false;
    for source in sources {
        if source.as_os_str() == "-" {
            if stdin_read {
                bail!("-f -: standard input can be read only once");
            }
            stdin_read = true;
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).context("-f -: cannot read standard input")?;
            manifests.extend(parse_manifests(&text, "-")?);
        } else if source.is_dir() {
            for file in files_in(source, recursive)? {
                manifests.extend(read_file(&file)?);
            }
        } else {
            manifests.extend(read_file(source)?);
        }
    }
    Ok(manifests)
}

fn read_file(path: &Path) -> anyhow::Result<Vec<Manifest>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    Ok(parse_manifests(&text, &path.display().to_string())?)
}

/// The manifest files in `dir`, sorted by name so that output is stable; subdirectories only
/// when `recursive` (kubectl's -R).
fn files_in(dir: &Path, recursive: bool) -> anyhow::Result<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .and_then(|entries| entries.map(|entry| entry.map(|e| e.path())).collect())
        .with_context(|| format!("{}: cannot read directory", dir.display()))?;
    entries.sort();
    let mut files = Vec::new();
    for entry in entries {
        if entry.is_dir() {
            if recursive {
                files.extend(files_in(&entry, recursive)?);
            }
        } else if entry.extension().and_then(|e| e.to_str()).is_some_and(|e| MANIFEST_EXTENSIONS.contains(&e)) {
            files.push(entry);
        }
    }
    Ok(files)
}
