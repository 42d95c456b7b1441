//! `scripts/image` makes an OCI image layout archive whose one layer holds rollwatch and exactly
//! the libraries it loads: unpacked and entered with chroot, the binary runs, as the image's
//! unprivileged user, with nothing else on the file system.

use std::path::Path;
use std::process::Command;

use rollwatch_testbed::{repo_root, rollwatch_bin};

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().expect("sha256sum runs");
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().expect("a digest").to_string()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).expect("JSON")
}

/// The blob a descriptor names, after checking that its content has that digest and size.
fn blob(layout: &Path, descriptor: &serde_json::Value) -> std::path::PathBuf {
    let digest = descriptor["digest"].as_str().expect("a digest").strip_prefix("sha256:").expect("sha256");
    let path = layout.join("blobs/sha256").join(digest);
    assert_eq!(sha256(&path), digest, "{} holds what its digest says", path.display());
    assert_eq!(std::fs::metadata(&path).unwrap().len(), descriptor["size"].as_u64().unwrap(), "{digest}: size");
    path
}

#[test]
fn the_image_holds_rollwatch_and_exactly_the_libraries_it_runs_with() {
    let scratch = std::env::temp_dir().join(format!("rollwatch-image-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let archive = scratch.join("image.tar");
    let made = Command::new(repo_root().join("scripts/image"))
        .arg(&archive)
        .env("ROLLWATCH_BIN", rollwatch_bin())
        .env("ROLLWATCH_IMAGE_TAG", "rollwatch:test")
        .output()
        .expect("scripts/image runs");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));

    let layout = scratch.join("layout");
    std::fs::create_dir_all(&layout).unwrap();
    assert!(Command::new("tar").arg("-xf").arg(&archive).arg("-C").arg(&layout).status().unwrap().success());
    assert_eq!(json(&layout.join("oci-layout"))["imageLayoutVersion"], "1.0.0");
    let index = json(&layout.join("index.json"));
    let manifest = json(&blob(&layout, &index["manifests"][0]));
    assert_eq!(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"], "test");
    let config = json(&blob(&layout, &manifest["config"]));
    assert_eq!(config["config"]["Entrypoint"], serde_json::json!(["/usr/local/bin/rollwatch"]));
    assert_eq!(config["config"]["User"], "65534:65534");
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 1);
    let layer = blob(&layout, &manifest["layers"][0]);
    let docker = json(&layout.join("manifest.json"));
    assert_eq!(docker[0]["RepoTags"], serde_json::json!(["rollwatch:test"]));

    let rootfs = scratch.join("rootfs");
    std::fs::create_dir_all(&rootfs).unwrap();
    assert!(Command::new("tar").arg("-xzf").arg(&layer).arg("-C").arg(&rootfs).status().unwrap().success());
    let uncompressed = Command::new("sh").arg("-c").arg(format!("gzip -dc {} | sha256sum", layer.display())).output().unwrap();
    assert_eq!(format!("sha256:{}", String::from_utf8_lossy(&uncompressed.stdout).split_whitespace().next().unwrap()), config["rootfs"]["diff_ids"][0]);

    // Nothing but the image's files: the binary runs from them, as its user, and works.
    let chroot =
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).map(|dir| dir.join("chroot")).find(|path| path.is_file()).expect("chroot");
    let run = |args: &[&str]| {
        Command::new(&chroot).arg("--userspec=65534:65534").arg(&rootfs).arg("/usr/local/bin/rollwatch").args(args).env_clear().output().unwrap()
    };
    let version = run(&["--version"]);
    assert!(version.status.success(), "{}", String::from_utf8_lossy(&version.stderr));
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("rollwatch "));
    // No kubeconfig and no service account in the image: the clear access error, exit 4.
    let unconfigured = run(&["wait", "deployment/web"]);
    assert_eq!(unconfigured.status.code(), Some(4), "{}", String::from_utf8_lossy(&unconfigured.stderr));
    assert!(String::from_utf8_lossy(&unconfigured.stderr).contains("no cluster configured"));
    std::fs::remove_dir_all(&scratch).unwrap();
}
