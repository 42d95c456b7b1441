//! Reading manifests as kubectl's `-f` does: files, directories (`-R` for their subdirectories),
//! multi-document YAML, JSON, `kind: List`, and `-` for standard input.
//!
//! Inputs larger than [`MAX_INPUT_BYTES`] are refused before they are read into memory. Inside
//! directories, symbolic links to directories are not followed (as kubectl's walk does not), so
//! a link loop cannot make `-R` run forever; links to files are read.

use std::io::Read;
use std::path::{Path, PathBuf};

pub use rollwatch_verdict::Manifest;
use rollwatch_verdict::{MAX_INPUT_BYTES, parse_manifests, rules};

use crate::Error;

/// File name endings read from directories, as kubectl reads them.
const MANIFEST_EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Reads every object of `paths`; a directory's manifest files are read in name order, its
/// subdirectories only when `recursive`; `-` is standard input (once).
pub fn read(paths: &[PathBuf], recursive: bool) -> Result<Vec<Manifest>, Error> {
    let mut manifests = Vec::new();
    let mut stdin_read = false;
    for path in paths {
        if path == Path::new("-") {
            if std::mem::replace(&mut stdin_read, true) {
                return Err(Error::input("-f -: standard input can be read only once"));
            }
            let mut text = String::new();
            std::io::stdin().take(MAX_INPUT_BYTES as u64 + 1).read_to_string(&mut text).map_err(|e| Error::input(format!("reading standard input: {e}")))?;
            manifests.extend(parse("-", &text)?);
            continue;
        }
        let metadata = std::fs::metadata(path).map_err(|e| Error::input(format!("{}: cannot read: {e}", path.display())))?;
        if metadata.is_dir() {
            for file in directory_files(path, recursive)? {
                manifests.extend(read_file(&file)?);
            }
        } else {
            manifests.extend(read_file(path)?);
        }
    }
    Ok(manifests)
}

/// The objects in one text; `source` names it in errors. An object whose readiness-rule
/// annotations (`rollwatch.dev/ready-when`, `failed-when`) do not compile is an error here, before
/// anything is applied or judged.
pub fn parse(source: &str, text: &str) -> Result<Vec<Manifest>, Error> {
    let manifests = parse_manifests(text, source).map_err(|e| Error::input(e.to_string()))?;
    for manifest in &manifests {
        rules::check_annotations(&manifest.object).map_err(|e| Error::input(format!("{}: {e}", manifest.origin)))?;
    }
    Ok(manifests)
}

fn read_file(path: &Path) -> Result<Vec<Manifest>, Error> {
    let cannot_read = |e: std::io::Error| Error::input(format!("{}: cannot read: {e}", path.display()));
    let mut text = String::new();
    // One byte more than allowed, so the parser reports the size (a FIFO has no length to check first).
    std::fs::File::open(path).and_then(|file| file.take(MAX_INPUT_BYTES as u64 + 1).read_to_string(&mut text)).map_err(cannot_read)?;
    parse(&path.display().to_string(), &text)
}

fn directory_files(directory: &Path, recursive: bool) -> Result<Vec<PathBuf>, Error> {
    let entries = std::fs::read_dir(directory).map_err(|e| Error::input(format!("{}: cannot read directory: {e}", directory.display())))?;
    // The entry's own type: a symbolic link to a directory is a link, not a directory.
    let mut paths: Vec<(PathBuf, bool)> = entries
        .map(|entry| {
            entry
                .and_then(|e| Ok((e.path(), e.file_type()?.is_dir())))
                .map_err(|e| Error::input(format!("{}: cannot read directory: {e}", directory.display())))
        })
        .collect::<Result<_, _>>()?;
    paths.sort();
    let mut files = Vec::new();
    for (path, is_dir) in paths {
        if is_dir {
            if recursive {
                files.extend(directory_files(&path, true)?);
            }
        } else if path.extension().and_then(|e| e.to_str()).is_some_and(|e| MANIFEST_EXTENSIONS.contains(&e)) {
            files.push(path);
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_numbered_in_their_source_and_described_by_name() {
        let manifests = parse("app.yaml", "kind: ConfigMap\nmetadata: {name: settings}\n---\nkind: Deployment\nmetadata: {}\n").unwrap();
        assert_eq!(manifests.len(), 2);
        assert_eq!(manifests[0].describe(), "app.yaml: configmap/settings");
        assert_eq!(manifests[1].describe(), "app.yaml: document 2 (deployment)");
    }

    #[test]
    fn a_directory_is_read_in_name_order_and_subdirectories_only_when_recursive() {
        let temporary = tempfile::Builder::new().prefix("rollwatch-manifests-").tempdir().unwrap();
        let dir = temporary.path().to_path_buf();
        std::fs::create_dir_all(dir.join("nested")).unwrap();
        std::fs::write(dir.join("b.yaml"), "kind: ConfigMap\nmetadata: {name: b}\n").unwrap();
        std::fs::write(dir.join("a.json"), r#"{"kind": "ConfigMap", "metadata": {"name": "a"}}"#).unwrap();
        std::fs::write(dir.join("notes.txt"), "not a manifest").unwrap();
        std::fs::write(dir.join("nested/c.yml"), "kind: ConfigMap\nmetadata: {name: c}\n").unwrap();
        let names = |recursive| -> Vec<String> {
            read(std::slice::from_ref(&dir), recursive).unwrap().iter().map(|m| m.object["metadata"]["name"].as_str().unwrap().to_string()).collect()
        };
        assert_eq!(names(false), ["a", "b"]);
        assert_eq!(names(true), ["a", "b", "c"]);
    }

    #[test]
    fn an_unreadable_file_and_invalid_yaml_name_the_file() {
        let missing = read(&[PathBuf::from("/nonexistent/app.yaml")], false).unwrap_err();
        assert!(missing.message.contains("/nonexistent/app.yaml"), "{missing}");
        let invalid = parse("bad.yaml", "kind: [unclosed").unwrap_err();
        assert!(invalid.message.starts_with("bad.yaml"), "{invalid}");
    }
}
