//! The recipes in `examples/` run for real against the local control plane, each once with a
//! rollout that succeeds and once with one that fails: the shell of the GitHub Actions step and
//! of the GitLab CI job, taken from their YAML and run with bash as those runners run it, and the
//! Helm script with a real helm (fetched and cached by `scripts/helm`).

use std::path::{Path, PathBuf};
use std::process::Command;

use rollwatch_testbed::{Run, TestNamespace, deployment, kubeconfig, repo_root, rollwatch_bin};
use serde_json::Value;

fn example(path: &str) -> String {
    std::fs::read_to_string(repo_root().join("examples").join(path)).unwrap()
}

fn yaml(text: &str) -> Value {
    serde_norway::from_str(text).expect("the recipe is YAML")
}

/// Two pods of `registry.example/web:TAG` behaving as `behavior`.
fn web(tag: &str, behavior: &str) -> String {
    deployment("web", 2, &format!("registry.example/web:{tag}"), behavior, "", "")
}

/// A healthy revision, then one whose containers crash two seconds after they start: within
/// the settle window, so the rollout fails at once with the default tolerances the recipes use.
const HEALTHY: &str = "ready";
const CRASHING: &str = "crash exit=3 after=2s";

/// What a CI job's checkout holds (`k8s/`) and a `bin/` with rollwatch (and helm) for its PATH.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new(tools: &[(&str, &Path)]) -> Self {
        let dir = tempfile::Builder::new().prefix("rollwatch-recipe-").tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("k8s")).unwrap();
        std::fs::create_dir_all(dir.path().join("bin")).unwrap();
        std::os::unix::fs::symlink(rollwatch_bin(), dir.path().join("bin/rollwatch")).unwrap();
        for (name, path) in tools {
            std::os::unix::fs::symlink(path, dir.path().join("bin").join(name)).unwrap();
        }
        Workspace { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The repository's manifests, as the job's checkout has them.
    fn manifests(&self, text: &str) {
        std::fs::write(self.path().join("k8s/web.yaml"), text).unwrap();
    }

    /// `PATH` with the workspace's tools first.
    fn search_path(&self) -> String {
        format!("{}:{}", self.path().join("bin").display(), std::env::var("PATH").unwrap_or_default())
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

/// The summary line of the JSON lines a recipe kept.
fn summary(jsonl: &str) -> Value {
    let lines: Vec<Value> = jsonl.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    lines.into_iter().rfind(|line| line["event"] == "summary").unwrap_or_else(|| panic!("no summary line in {jsonl}"))
}

fn image_of(ns: &TestNamespace) -> String {
    ns.kubectl(&["get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"]).ok().stdout
}

// --- GitHub Actions ---------------------------------------------------------------------------

/// `value` with its `${{ ... }}` expressions replaced from `context`; an expression the test does
/// not know fails it, so a recipe cannot grow one that goes untried.
fn github_expressions(value: &str, context: &[(&str, &str)]) -> String {
    let mut out = value.to_string();
    while let Some(start) = out.find("${{") {
        let end = start + out[start..].find("}}").expect("a closed expression");
        let name = out[start + 3..end].trim().to_string();
        let (_, replacement) = context.iter().find(|(known, _)| *known == name).unwrap_or_else(|| panic!("unknown expression ${{{{ {name} }}}}"));
        out.replace_range(start..end + 2, replacement);
    }
    out
}

/// Runs the workflow's rollwatch step as GitHub's runner runs a `run:` script on Linux (`bash -e`),
/// with the job's and the step's `env:`, in `workspace`, against the test cluster.
fn github_step(workflow: &Value, workspace: &Workspace, ns: &TestNamespace) -> Run {
    let job = &workflow["jobs"]["deploy"];
    let steps = job["steps"].as_array().expect("steps");
    let step = steps
        .iter()
        .find(|step| step["run"].as_str().is_some_and(|run| run.lines().any(|line| line.trim_start().starts_with("rollwatch "))))
        .expect("a step that runs rollwatch");
    let runner_temp = workspace.path().join("runner-temp");
    std::fs::create_dir_all(&runner_temp).unwrap();
    let kubeconfig_text = std::fs::read_to_string(kubeconfig()).unwrap();
    let context = [("runner.temp", runner_temp.to_str().unwrap()), ("secrets.KUBECONFIG", kubeconfig_text.as_str())];
    let mut command = Command::new("bash");
    command.args(["-e", "-c", step["run"].as_str().unwrap()]).current_dir(workspace.path()).env_remove("KUBECONFIG");
    for env in [&job["env"], &step["env"]] {
        for (name, value) in env.as_object().into_iter().flatten() {
            command.env(name, github_expressions(value.as_str().expect("a string"), &context));
        }
    }
    command.env("NAMESPACE", &ns.name).env("PATH", workspace.search_path()).env("GITHUB_STEP_SUMMARY", workspace.path().join("step-summary.md"));
    command.output().expect("bash runs").into()
}

#[test]
fn the_github_actions_step_passes_a_rollout_and_fails_a_broken_one_with_annotations() {
    let workflow = yaml(&example("github-actions/deploy.yml"));
    let ns = TestNamespace::new("gha");
    let workspace = Workspace::new(&[]);

    workspace.manifests(&web("1", HEALTHY));
    let run = github_step(&workflow, &workspace, &ns);
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert!(run.stdout.contains("rolled out") && !run.stdout.contains("::error::"), "{}", run.output());
    assert_eq!(summary(&workspace.read("rollwatch.jsonl"))["result"], "ready");
    assert!(workspace.read("step-summary.md").contains("| Deployment/web | Ready |  |"), "{}", workspace.read("step-summary.md"));

    workspace.manifests(&web("2", CRASHING));
    let run = github_step(&workflow, &workspace, &ns);
    assert_eq!(run.code, Some(1), "{}", run.output());
    let kept = workspace.read("rollwatch.jsonl");
    let failed = summary(&kept);
    assert_eq!(failed["result"], "failed", "{kept}");
    let code = failed["objects"][0]["reasons"][0]["code"].as_str().expect("a reason code").to_string();
    assert!(run.stdout.contains(&format!("::error::Deployment/web failed: {code}\n")), "{}", run.output());
    assert!(run.stdout.contains("::error::a rollout failed (rolled back)"), "{}", run.output());
    assert!(workspace.read("step-summary.md").contains(&format!("| Deployment/web | Failed | {code} |")), "{}", workspace.read("step-summary.md"));
    // --rollback-on-failure took the Deployment back to the revision that worked.
    assert!(kept.contains(r#""event":"rolled_back""#), "{kept}");
    assert_eq!(image_of(&ns), "registry.example/web:1");
}

// --- GitLab CI --------------------------------------------------------------------------------

/// Runs the `deploy` job's `script:` as GitLab's runner runs it (one bash with `set -eo
/// pipefail`), in a pod of namespace `ns` with its `default` service account, as on a
/// Kubernetes runner, and `KUBE_NAMESPACE` set as GitLab sets it for the environment.
fn gitlab_job(pipeline: &Value, workspace: &Workspace, ns: &TestNamespace) -> Run {
    let script: Vec<&str> = pipeline["deploy"]["script"].as_array().expect("a script").iter().map(|line| line.as_str().unwrap()).collect();
    let mount = ns.service_account_mount("default");
    let path = workspace.search_path();
    let vars = [("PATH", path.as_str()), ("KUBE_NAMESPACE", ns.name.as_str())];
    rollwatch_testbed::in_pod(&mount, &vars, Some(workspace.path()), Path::new("bash"), &["-e", "-o", "pipefail", "-c", &script.join("\n")])
}

#[test]
fn the_gitlab_ci_job_passes_a_rollout_and_fails_a_broken_one_in_a_runner_pod() {
    let pipeline = yaml(&example("gitlab-ci/.gitlab-ci.yml"));
    assert_eq!(pipeline["deploy"]["allow_failure"]["exit_codes"], serde_json::json!([3]), "only not ready in time fails softly");
    assert_eq!(pipeline["deploy"]["artifacts"]["reports"]["dotenv"], "rollwatch.env");
    let ns = TestNamespace::new("gitlab");
    // The runner's service account may apply (GitLab's Kubernetes runners are given such a role).
    ns.kubectl(&["create", "rolebinding", "deployer", "--clusterrole=admin", &format!("--serviceaccount={}:default", ns.name)]).ok();
    let workspace = Workspace::new(&[]);

    workspace.manifests(&web("1", HEALTHY));
    let run = gitlab_job(&pipeline, &workspace, &ns);
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert!(run.stdout.contains("Deployment/web: Ready \n"), "{}", run.output());
    assert_eq!(workspace.read("rollwatch.env"), "ROLLWATCH_RESULT=ready\n");

    workspace.manifests(&web("2", CRASHING));
    let run = gitlab_job(&pipeline, &workspace, &ns);
    assert_eq!(run.code, Some(1), "{}", run.output());
    let failed = summary(&workspace.read("rollwatch.jsonl"));
    let code = failed["objects"][0]["reasons"][0]["code"].as_str().expect("a reason code").to_string();
    assert!(run.stdout.contains(&format!("Deployment/web: Failed {code}\n")), "{}", run.output());
    assert_eq!(workspace.read("rollwatch.env"), "ROLLWATCH_RESULT=failed\n");
    assert_eq!(image_of(&ns), "registry.example/web:1", "rolled back");
}

// --- Helm -------------------------------------------------------------------------------------

/// helm v3.8.1, the last line supporting the control plane's Kubernetes 1.20: `scripts/helm`
/// fetches it once into the cache (scripts/test does before the tests) and prints its path.
fn helm() -> PathBuf {
    let run: Run = Command::new(repo_root().join("scripts/helm")).output().expect("scripts/helm runs").into();
    PathBuf::from(run.ok().stdout.trim())
}

/// `examples/helm/deploy.sh` with the test chart as `./chart`, helm's own state kept in the
/// workspace, and `helm_args` passed on to `helm upgrade`.
fn helm_deploy(workspace: &Workspace, ns: &TestNamespace, helm_args: &[&str]) -> Run {
    let state = workspace.path().join("helm-state");
    let mut command = Command::new("bash");
    command
        .arg(repo_root().join("examples/helm/deploy.sh"))
        .args(helm_args)
        .current_dir(workspace.path())
        .env("PATH", workspace.search_path())
        .env("KUBECONFIG", kubeconfig())
        .env("RELEASE", "web")
        .env("NAMESPACE", &ns.name)
        .env("HELM_CACHE_HOME", state.join("cache"))
        .env("HELM_CONFIG_HOME", state.join("config"))
        .env("HELM_DATA_HOME", state.join("data"));
    command.output().expect("bash runs").into()
}

#[test]
fn the_helm_recipe_tracks_what_helm_rendered_and_fails_a_broken_release_with_its_reason() {
    let helm = helm();
    let ns = TestNamespace::new("helm");
    let workspace = Workspace::new(&[("helm", &helm)]);
    std::os::unix::fs::symlink(repo_root().join("crates/testbed/charts/web"), workspace.path().join("chart")).unwrap();

    let run = helm_deploy(&workspace, &ns, &[]);
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert!(run.stdout.contains("STATUS: deployed") && run.stdout.contains("deployment/web"), "{}", run.output());
    assert_eq!(image_of(&ns), "registry.example/web:1");

    let run = helm_deploy(&workspace, &ns, &["--set", "image=registry.example/web:2", "--set", &format!("behavior={CRASHING}")]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert!(run.output().contains("REVISION: 2"), "helm upgraded the release: {}", run.output());
    // The reason, with the failing container and its exit code, as rollwatch's text shows it.
    let output = run.output();
    assert!(output.contains("deployment/web") && output.contains("container app") && output.contains("exit code 3"), "{output}");
}
