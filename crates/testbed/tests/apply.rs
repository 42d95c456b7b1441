//! `rollwatch apply` is all or nothing as far as the API allows: a directory with one invalid
//! manifest changes nothing and the error names the file, the object and the field; namespaces
//! and CRDs go first, so objects that need them apply in one run.

use std::path::{Path, PathBuf};

use rollwatch_testbed::{TestNamespace, kubectl_global};

/// A directory of manifest files that is removed when dropped.
struct ManifestDir {
    path: PathBuf,
}

impl ManifestDir {
    fn new(test: &str, files: &[(&str, &str)]) -> Self {
        let path = std::env::temp_dir().join(format!("rollwatch-apply-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        for (name, text) in files {
            let file = path.join(name);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, text).unwrap();
        }
        Self { path }
    }

    fn file(&self, name: &str) -> String {
        self.path.join(name).display().to_string()
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ManifestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

const CONFIG: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: fast}\n";

fn deployment(name: &str, replicas: &str, container_extra: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: {name}}}}}\n  \
         template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers: [{{name: app, image: nginx:1.19{container_extra}}}]\n"
    )
}

fn absent(ns: &TestNamespace, what: &str) -> bool {
    let run = ns.kubectl(&["get", what]);
    !run.success && run.stderr.contains("NotFound")
}

#[test]
fn a_directory_with_invalid_manifests_changes_nothing_and_names_file_object_and_field() {
    let ns = TestNamespace::new("apply-invalid");
    let dir = ManifestDir::new(
        "invalid",
        &[
            ("01-config.yaml", CONFIG),
            ("02-web.yaml", &deployment("web", "1", "")),
            ("03-broken.yaml", &deployment("broken", "three", "")),
            ("04-typo.yaml", &deployment("typo", "1", ", imagePullPolicyy: Always")),
        ],
    );
    let run = ns.rollwatch(&["apply", "-f", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, Some(2), "a manifest error:\n{}", run.output());
    let said = run.output();
    for expected in [
        format!("{}: deployment/broken", dir.file("03-broken.yaml")),
        ".spec.replicas".to_string(),
        format!("{}: deployment/typo", dir.file("04-typo.yaml")),
        "imagePullPolicyy".to_string(),
    ] {
        assert!(said.contains(&expected), "the error names {expected:?}:\n{said}");
    }
    assert!(!said.contains("02-web.yaml"), "valid files are not blamed:\n{said}");
    for object in ["configmap/settings", "deployment/web", "deployment/broken", "deployment/typo"] {
        assert!(absent(&ns, object), "{object} was created although the apply failed");
    }
}

#[test]
fn a_manifest_without_a_name_fails_before_the_cluster_is_changed() {
    let ns = TestNamespace::new("apply-noname");
    let dir = ManifestDir::new("noname", &[("a.yaml", CONFIG), ("b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {labels: {x: y}}\n")]);
    let run = ns.rollwatch(&["apply", "-f", dir.path().to_str().unwrap(), "-o", "json"]);
    assert_eq!(run.code, Some(2), "{}", run.output());
    let error = run.json_lines().pop().unwrap();
    assert_eq!(error["event"], "error");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(&dir.file("b.yaml")) && message.contains("field metadata.name"), "{message}");
    assert!(absent(&ns, "configmap/settings"));
}

#[test]
fn an_object_in_another_namespace_than_dash_n_is_refused() {
    let ns = TestNamespace::new("apply-nsmismatch");
    let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: elsewhere}\n";
    let run = ns.rollwatch_stdin(&["apply", "-f", "-"], manifest);
    assert_eq!(run.code, Some(2), "{}", run.output());
    assert!(run.output().contains("-: configmap/settings: field metadata.namespace"), "{}", run.output());
}

/// Deletes a namespace and a CRD the test's apply created, however the test ends.
struct Created {
    namespace: String,
    crd: String,
}

impl Drop for Created {
    fn drop(&mut self) {
        let _ = kubectl_global(&["delete", "namespace", &self.namespace, "--wait=false"]);
        let _ = kubectl_global(&["delete", "customresourcedefinition", &self.crd, "--wait=false"]);
    }
}

#[test]
fn namespaces_and_crds_go_first_so_what_needs_them_applies_in_one_run() {
    let suffix = format!("{:x}", std::process::id());
    let namespace = format!("rw-apply-new-{suffix}");
    let group = format!("t{suffix}.rollwatch.dev");
    let created = Created { namespace: namespace.clone(), crd: format!("widgets.{group}") };
    let crd = format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: widgets.{group}}}\nspec:\n  group: {group}\n  \
         scope: Namespaced\n  names: {{kind: Widget, plural: widgets, singular: widget}}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    \
         schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}\n"
    );
    let widget = format!("apiVersion: {group}/v1\nkind: Widget\nmetadata: {{name: gadget, namespace: {namespace}}}\nspec: {{size: 3}}\n");
    let with_namespace = |text: &str| text.replacen("metadata: {name: settings}", &format!("metadata: {{name: settings, namespace: {namespace}}}"), 1);
    // Given in the "wrong" order, across subdirectories (-R).
    let dir = ManifestDir::new(
        "prerequisites",
        &[
            ("app/config.yaml", &with_namespace(CONFIG)),
            ("app/widget.yaml", &widget),
            ("crd.yaml", &crd),
            ("namespace.yaml", &format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {namespace}}}\n")),
        ],
    );
    let run = rollwatch_testbed::rollwatch(&["apply", "-R", "-f", dir.path().to_str().unwrap(), "--timeout", "2m"]);
    assert_eq!(run.code, Some(0), "{}", run.output());
    let applied: Vec<&str> = run.stdout.lines().filter(|l| l.ends_with(" created")).collect();
    assert_eq!(applied.len(), 4, "{}", run.output());
    assert!(applied[0].contains(&format!("namespace/{namespace}")), "{applied:?}");
    assert!(applied[1].contains(&format!("customresourcedefinition/widgets.{group}")), "{applied:?}");
    let gadget = kubectl_global(&["-n", &namespace, "get", &format!("widgets.{group}/gadget"), "-o", "json"]).ok().json();
    assert_eq!(gadget["spec"]["size"], 3);
    assert!(run.stdout.contains(&format!("READY widget.{group}/gadget")), "a custom kind is named with its group, as kubectl names it: {}", run.output());
    drop(created);
}

#[test]
fn a_user_who_may_only_read_cannot_apply_but_can_ask_for_status() {
    let ns = TestNamespace::new("apply-viewer");
    // The kubeconfig's read-only context (bound to the `view` ClusterRole).
    let denied = ns.rollwatch_stdin(&["--context", "rollwatch-viewer", "apply", "-f", "-"], CONFIG);
    assert_eq!(denied.code, Some(4), "a cluster access error:\n{}", denied.output());
    assert!(denied.output().contains("forbidden"), "{}", denied.output());
    assert!(absent(&ns, "configmap/settings"));

    ns.apply(CONFIG).ok();
    let status = ns.rollwatch(&["--context", "rollwatch-viewer", "status", "configmap/settings"]);
    assert_eq!(status.code, Some(0), "reading is allowed:\n{}", status.output());
}

#[test]
fn a_server_without_field_validation_is_noted_once_and_its_warnings_are_shown() {
    let ns = TestNamespace::new("apply-validation");
    // v1.20 still serves RBAC v1beta1, with a deprecation warning on every request.
    let role = "apiVersion: rbac.authorization.k8s.io/v1beta1\nkind: Role\nmetadata: {name: reader}\nrules: []\n";
    let run = ns.rollwatch_stdin(&["apply", "-f", "-", "--timeout", "2m"], &format!("{CONFIG}---\n{role}"));
    assert_eq!(run.code, Some(0), "{}", run.output());
    let notes: Vec<&str> = run.stderr.lines().filter(|line| line.starts_with("note: ")).collect();
    assert_eq!(
        notes,
        [
            "note: server v1.20.2 predates field validation (Kubernetes 1.25, or 1.23 with a feature gate): unknown fields fail the dry run only for built-in kinds; custom resources may drop them silently"
        ],
        "{}",
        run.output()
    );
    // The warning comes with the dry run and with the apply; it is shown once.
    let warnings: Vec<&str> = run.stderr.lines().filter(|line| line.starts_with("warning: ")).collect();
    assert_eq!(
        warnings,
        [
            "warning: -: role/reader: rbac.authorization.k8s.io/v1beta1 Role is deprecated in v1.17+, unavailable in v1.22+; use rbac.authorization.k8s.io/v1 Role"
        ],
        "{}",
        run.output()
    );
}
