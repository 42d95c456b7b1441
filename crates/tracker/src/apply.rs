//! Server-side apply (field manager `rollwatch`) of a set of manifests, all or nothing as far as
//! the API allows: every object is checked locally and by a server dry run before the first is
//! changed. Namespaces and CustomResourceDefinitions go first; objects that need one of them
//! (in a namespace or of a kind this apply creates) can only be dry-run once it exists, so they
//! are checked right after, still before any other object is changed.
//!
//! The dry run and the apply ask for `fieldValidation=Strict` where the server has it, so a
//! misspelled field fails the dry run instead of being dropped with a warning; see
//! [`FieldValidation`]. The server's warnings (deprecated APIs, ...) are handed back with each
//! object, since kube's typed calls drop the response headers they come in.

use http_body_util::BodyExt;
use kube::api::{Api, DynamicObject, Patch, PatchParams, ValidationDirective};
use kube::discovery::ApiResource;
use rollwatch_verdict::history::CHANGE_CAUSE_ANNOTATION;
use rollwatch_verdict::{ObjectRef, registry};
use serde_json::Value;

use crate::manifests::Manifest;
use crate::resources::Resource;
use crate::{Error, Tracker};

/// The field manager rollwatch applies as.
pub const FIELD_MANAGER: &str = "rollwatch";

/// How to apply.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// The namespace given on the command line (`-n`): objects without one go there, and an
    /// object naming another is an error, as with kubectl.
    pub namespace: Option<String>,
    /// Take over fields another manager owns instead of failing on the conflict.
    pub force_conflicts: bool,
    /// The field manager to apply as ([`FIELD_MANAGER`] if None): the name under which the
    /// server records the fields this apply sets, so that a later apply by the same name may
    /// change or drop them without a conflict.
    pub field_manager: Option<String>,
}

/// One object ready to apply.
#[derive(Debug, Clone)]
pub struct Item {
    pub manifest: Manifest,
    pub resource: Resource,
    /// The object's name for tracking: its kind (with the group for kinds outside the built-in
    /// table, `Widget.example.com`), namespace and name.
    pub object: ObjectRef,
    /// Made by a CustomResourceDefinition in the same set: the server cannot check it before.
    needs_new_kind: bool,
}

/// A checked set of manifests, in the order they will be applied.
#[derive(Debug, Clone)]
pub struct Plan {
    pub items: Vec<Item>,
    namespaces_created: Vec<String>,
    force_conflicts: bool,
    field_manager: String,
    pub field_validation: FieldValidation,
    /// The resourceVersion each existing object had at the dry run: an apply that leaves it so
    /// changed nothing.
    versions_at_dry_run: std::collections::HashMap<ObjectRef, String>,
}

/// Whether the API server checks the fields of what is applied: `fieldValidation=Strict` makes
/// unknown and duplicate fields errors. Servers from v1.25 have it; v1.23 and v1.24 only with
/// the `ServerSideFieldValidation` feature gate, which shows as the parameter in their OpenAPI
/// document (kubectl checks it there too); older servers ignore the parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValidation {
    Strict,
    /// Why not, for an honest note: `server v1.20.2 predates ...`.
    Unavailable(String),
}

/// The server's major and minor version as it supports field validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValidationSupport {
    Always,
    WithFeatureGate,
    Never,
}

/// From `/version`'s `major` and `minor` (`"1"`, `"24+"` on some managed clusters).
fn validation_support(major: &str, minor: &str) -> ValidationSupport {
    let number = |text: &str| text.trim_end_matches(|c: char| !c.is_ascii_digit()).parse::<u32>().ok();
    match (number(major), number(minor)) {
        (Some(1), Some(minor)) if minor >= 25 => ValidationSupport::Always,
        (Some(1), Some(23 | 24)) => ValidationSupport::WithFeatureGate,
        (Some(major), _) if major > 1 => ValidationSupport::Always,
        _ => ValidationSupport::Never,
    }
}

/// Whether an OpenAPI v2 document offers the `fieldValidation` query parameter.
fn openapi_offers_field_validation(document: &str) -> bool {
    document.contains("\"fieldValidation\"")
}

async fn field_validation(tracker: &Tracker) -> Result<FieldValidation, Error> {
    let info = crate::retry::retrying(|| tracker.client().apiserver_version()).await.map_err(|e| Error::from_kube("reading the server version", &e))?;
    let unavailable = |why: &str| FieldValidation::Unavailable(format!("server {} {why}", info.git_version));
    Ok(match validation_support(&info.major, &info.minor) {
        ValidationSupport::Always => FieldValidation::Strict,
        ValidationSupport::Never => unavailable("predates field validation (Kubernetes 1.25, or 1.23 with a feature gate)"),
        ValidationSupport::WithFeatureGate => {
            let request = || tracker.client().request_text(http::Request::get("/openapi/v2").body(Vec::new()).expect("a valid request"));
            let document = crate::retry::retrying(request).await.map_err(|e| Error::from_kube("reading the server's OpenAPI document", &e))?;
            if openapi_offers_field_validation(&document) {
                FieldValidation::Strict
            } else {
                unavailable("has field validation only with the ServerSideFieldValidation feature gate, which is off")
            }
        }
    })
}

/// Reads each manifest's kind, name and namespace, resolving its kind on the server; fails
/// naming the file, the object and the field.
pub async fn plan(tracker: &Tracker, manifests: Vec<Manifest>, options: &ApplyOptions) -> Result<Plan, Error> {
    let defined = defined_kinds(&manifests)?;
    let mut items: Vec<Item> = Vec::new();
    let mut problems = Vec::new();
    for manifest in manifests {
        match plan_item(tracker, manifest, options, &defined).await {
            Ok(item) => {
                if let Some(other) = items.iter().find(|i| i.object == item.object && i.resource.api.group == item.resource.api.group) {
                    problems.push(format!("{}: the same object as {}", item.manifest.describe(), other.manifest.origin.source));
                } else {
                    items.push(item);
                }
            }
            Err(error) if error.kind == crate::ErrorKind::Input => problems.push(error.message),
            Err(error) => return Err(error),
        }
    }
    if !problems.is_empty() {
        return Err(Error::input(problems.join("\n")));
    }
    // Namespaces, then CRDs, then the rest as given.
    items.sort_by_key(|item| item.object.row().map_or(registry::DEFAULT_APPLY_STAGE, |row| row.apply_stage));
    let namespaces_created = items.iter().filter(|i| i.object.is(&registry::NAMESPACE)).map(|i| i.object.name.clone()).collect();
    let field_validation = field_validation(tracker).await?;
    let field_manager = options.field_manager.clone().unwrap_or_else(|| FIELD_MANAGER.to_string());
    Ok(Plan { items, namespaces_created, force_conflicts: options.force_conflicts, field_manager, field_validation, versions_at_dry_run: Default::default() })
}

async fn plan_item(tracker: &Tracker, mut manifest: Manifest, options: &ApplyOptions, defined: &[Resource]) -> Result<Item, Error> {
    let at = manifest.describe();
    let field = |field: &str, problem: &str| Error::input(format!("{at}: field {field}: {problem}"));
    let text = |pointer: &str| manifest.object.pointer(pointer).map(|v| v.as_str().map(str::to_string).ok_or(()));
    let api_version = match text("/apiVersion") {
        Some(Ok(v)) if !v.is_empty() => v,
        Some(_) => return Err(field("apiVersion", "expected a non-empty string")),
        None => return Err(field("apiVersion", "missing")),
    };
    let kind = manifest.object["kind"].as_str().unwrap_or_default().to_string();
    let name = match text("/metadata/name") {
        Some(Ok(v)) if !v.is_empty() => v,
        Some(_) => return Err(field("metadata.name", "expected a non-empty string")),
        None => {
            return Err(field("metadata.name", "missing (apply needs a name; generateName is not enough)"));
        }
    };
    let declared_namespace = match text("/metadata/namespace") {
        Some(Ok(v)) if !v.is_empty() => Some(v),
        Some(Ok(_)) | None => None,
        Some(Err(())) => return Err(field("metadata.namespace", "expected a string")),
    };
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", &api_version));
    let new_kind = defined.iter().find(|r| r.api.group == group && r.api.version == version && r.api.kind == kind);
    let (resource, needs_new_kind) = match new_kind {
        Some(resource) => (resource.clone(), true),
        None => {
            let resolved = tracker.resolver().for_manifest(&api_version, &kind).await;
            (
                resolved.map_err(|e| match e.kind {
                    crate::ErrorKind::Input => Error::input(format!("{at}: field kind: {}", e.message)),
                    _ => e,
                })?,
                false,
            )
        }
    };
    let namespace = if resource.namespaced {
        let namespace = match (&declared_namespace, &options.namespace) {
            (Some(declared), Some(given)) if declared != given => {
                return Err(field(
                    "metadata.namespace",
                    &format!("{declared:?} does not match the namespace {given:?} given with -n (pass -n {declared} or remove it)"),
                ));
            }
            (Some(declared), _) => declared.clone(),
            (None, Some(given)) => given.clone(),
            (None, None) => tracker.default_namespace().to_string(),
        };
        manifest.object["metadata"]["namespace"] = Value::String(namespace.clone());
        Some(namespace)
    } else {
        None
    };
    let object = ObjectRef::in_group(&resource.api.group, resource.api.kind.clone(), namespace, name);
    Ok(Item { object, resource, manifest, needs_new_kind })
}

/// The kinds that CustomResourceDefinitions among the manifests define, one per served version.
fn defined_kinds(manifests: &[Manifest]) -> Result<Vec<Resource>, Error> {
    let mut kinds = Vec::new();
    for manifest in manifests.iter().filter(|m| registry::of_object(&m.object).is_some_and(|row| *row == registry::CUSTOM_RESOURCE_DEFINITION)) {
        let spec = &manifest.object["spec"];
        let at = manifest.describe();
        let read = |pointer: &str| {
            spec.pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| Error::input(format!("{at}: field spec{}: missing", pointer.replace('/', "."))))
        };
        let group = read("/group")?;
        let kind = read("/names/kind")?;
        let plural = read("/names/plural")?;
        let namespaced = read("/scope")? == "Namespaced";
        for version in spec["versions"].as_array().into_iter().flatten().filter_map(|v| v["name"].as_str()) {
            let api = ApiResource {
                group: group.clone(),
                version: version.to_string(),
                api_version: format!("{group}/{version}"),
                kind: kind.clone(),
                plural: plural.clone(),
            };
            kinds.push(Resource { api, namespaced });
        }
    }
    Ok(kinds)
}

impl Plan {
    /// What will be applied, for tracking.
    pub fn objects(&self) -> Vec<ObjectRef> {
        self.items.iter().map(|item| item.object.clone()).collect()
    }

    /// Records `change_cause` on the workloads with a rollout history (Deployments, StatefulSets,
    /// DaemonSets) whose manifest does not set one itself, so their history says who applied what.
    pub fn record_change_cause(&mut self, change_cause: &str) {
        for item in &mut self.items {
            let has_history = item.object.row().is_some_and(|row| row.rollout.history.is_some());
            let metadata = &mut item.manifest.object["metadata"];
            if has_history && metadata["annotations"][CHANGE_CAUSE_ANNOTATION].is_null() {
                if !metadata["annotations"].is_object() {
                    metadata["annotations"] = Value::Object(serde_json::Map::new());
                }
                metadata["annotations"][CHANGE_CAUSE_ANNOTATION] = Value::String(change_cause.to_string());
            }
        }
    }

    /// Server dry run of every object the server can check now (all but those needing a
    /// namespace or kind this plan creates); reports every rejection, naming file and object.
    /// `warned` hears the server's warnings about each object.
    pub async fn dry_run(&mut self, tracker: &Tracker, warned: impl FnMut(&Item, &[String])) -> Result<(), Error> {
        let mut waiting_for_namespace = Vec::new();
        for namespace in &self.namespaces_created {
            if !namespace_exists(tracker, namespace).await? {
                waiting_for_namespace.push(namespace.clone());
            }
        }
        let checkable =
            self.items.iter().filter(|item| !item.needs_new_kind && !item.object.namespace.as_ref().is_some_and(|ns| waiting_for_namespace.contains(ns)));
        self.versions_at_dry_run = self.dry_run_items(tracker, checkable, warned).await?;
        Ok(())
    }

    /// Dry-runs `items`; the resourceVersion of each that exists (a dry run writes nothing, so
    /// the server answers with the stored one).
    async fn dry_run_items<'a>(
        &self,
        tracker: &Tracker,
        items: impl Iterator<Item = &'a Item>,
        mut warned: impl FnMut(&Item, &[String]),
    ) -> Result<std::collections::HashMap<ObjectRef, String>, Error> {
        let mut problems = Vec::new();
        let mut versions = std::collections::HashMap::new();
        for item in items {
            match self.patch(tracker, item, true).await {
                Ok(written) => {
                    if !written.warnings.is_empty() {
                        warned(item, &written.warnings);
                    }
                    if let (false, Some(version)) = (written.created, written.stored["metadata"]["resourceVersion"].as_str()) {
                        versions.insert(item.object.clone(), version.to_string());
                    }
                }
                Err(error) if error.kind == crate::ErrorKind::Input => problems.push(error.message),
                Err(error) => return Err(error),
            }
        }
        if problems.is_empty() { Ok(versions) } else { Err(Error::input(problems.join("\n"))) }
    }

    /// What the apply that answered `written` did to `item`.
    fn change(&self, item: &Item, written: &Written) -> Change {
        let version = written.stored["metadata"]["resourceVersion"].as_str();
        if written.created {
            Change::Created
        } else if version.is_some() && self.versions_at_dry_run.get(&item.object).map(String::as_str) == version {
            Change::Unchanged
        } else {
            Change::Configured
        }
    }

    /// Applies the plan: namespaces and CRDs (waiting until the CRDs are established), a dry run
    /// of what needed them, then everything else. `applied` hears of each object as it is done,
    /// with the object as the server stored it and the server's warnings (also those of the dry
    /// run of objects that needed this plan's namespaces or CRDs); on an error, what it heard of
    /// stays applied.
    pub async fn apply(&self, tracker: &Tracker, mut told: impl FnMut(&Item, Step<'_>)) -> Result<(), Error> {
        let first_stage = |item: &&Item| item.object.row().is_some_and(|row| row.apply_stage < registry::DEFAULT_APPLY_STAGE);
        let (prerequisites, rest): (Vec<&Item>, Vec<&Item>) = self.items.iter().partition(first_stage);
        for item in &prerequisites {
            let written = self.patch(tracker, item, false).await?;
            told(item, Step::Applied { stored: &written.stored, warnings: &written.warnings, change: self.change(item, &written) });
        }
        for item in prerequisites.iter().filter(|i| i.object.is(&registry::CUSTOM_RESOURCE_DEFINITION)) {
            wait_established(tracker, &item.object.name).await?;
        }
        let needed_prerequisites =
            rest.iter().copied().filter(|item| item.needs_new_kind || item.object.namespace.as_ref().is_some_and(|ns| self.namespaces_created.contains(ns)));
        self.dry_run_items(tracker, needed_prerequisites, |item, warnings| told(item, Step::DryRunWarnings(warnings))).await.map(drop).map_err(
            |e| match e.kind {
                crate::ErrorKind::Input => Error::input(format!("{}\n(namespaces and CustomResourceDefinitions were applied; nothing else was)", e.message)),
                _ => e,
            },
        )?;
        for item in rest {
            let written = self.patch(tracker, item, false).await?;
            told(item, Step::Applied { stored: &written.stored, warnings: &written.warnings, change: self.change(item, &written) });
        }
        Ok(())
    }

    /// One server-side apply (retried on 429 and 5xx): the object as the server stored it, and
    /// its warnings.
    async fn patch(&self, tracker: &Tracker, item: &Item, dry_run: bool) -> Result<Written, Error> {
        let api: Api<DynamicObject> = match &item.object.namespace {
            Some(namespace) => Api::namespaced_with(tracker.client().clone(), namespace, &item.resource.api),
            None => Api::all_with(tracker.client().clone(), &item.resource.api),
        };
        let field_validation = (self.field_validation == FieldValidation::Strict).then_some(ValidationDirective::Strict);
        let params = PatchParams { dry_run, force: self.force_conflicts, field_manager: Some(self.field_manager.clone()), field_validation };
        let context = if dry_run { format!("{} (dry run)", item.manifest.describe()) } else { item.manifest.describe() };
        let send = || async {
            let request = kube::core::Request::new(api.resource_url())
                .patch(&item.object.name, &params, &Patch::Apply(&item.manifest.object))
                .map_err(kube::Error::BuildRequest)?;
            let response = tracker.client().send(request.map(kube::client::Body::from)).await?;
            let warnings = response.headers().get_all(http::header::WARNING).iter().filter_map(|value| warning_text(value.to_str().ok()?)).collect();
            let status = response.status();
            let body = response.into_body().collect().await.map_err(|e| kube::Error::Service(Box::new(e)))?.to_bytes();
            if status.is_client_error() || status.is_server_error() {
                let text = String::from_utf8_lossy(&body);
                let reported = serde_json::from_str::<kube::core::Status>(&text)
                    .unwrap_or_else(|_| kube::core::Status::failure(text.trim(), "").with_code(status.as_u16()));
                return Err(kube::Error::Api(reported.boxed()));
            }
            let stored = serde_json::from_slice(&body).map_err(kube::Error::SerdeError)?;
            Ok(Written { stored, warnings, created: status == http::StatusCode::CREATED })
        };
        crate::retry::retrying(send).await.map_err(|e| match &e {
            kube::Error::Api(status) => match describe_conflict(status) {
                Some(conflict) => Error::input(format!("{context}: {conflict}")),
                None => Error::from_kube_input(&context, &e),
            },
            _ => Error::from_kube_input(&context, &e),
        })
    }
}

/// A server-side apply conflict in words: the fields another field manager owns (a client-side
/// `kubectl apply` is `kubectl-client-side-apply`, Helm `helm`, Argo CD `argocd-controller`)
/// and how to take them over. `None` for any other answer.
fn describe_conflict(status: &kube::core::Status) -> Option<String> {
    if status.code != 409 {
        return None;
    }
    let causes = &status.details.as_ref()?.causes;
    let mut by_manager: Vec<(String, Vec<&str>)> = Vec::new();
    for cause in causes.iter().filter(|cause| cause.reason == "FieldManagerConflict") {
        // The server writes `conflict with "MANAGER"` or `conflict with "MANAGER" using apps/v1`.
        let manager = cause.message.split('"').nth(1).unwrap_or(cause.message.as_str()).to_string();
        match by_manager.iter_mut().find(|(name, _)| *name == manager) {
            Some((_, fields)) => fields.push(&cause.field),
            None => by_manager.push((manager, vec![&cause.field])),
        }
    }
    if by_manager.is_empty() {
        return None;
    }
    let owners: Vec<String> = by_manager.iter().map(|(manager, fields)| format!("{} owned by field manager {manager:?}", fields.join(", "))).collect();
    Some(format!("conflict: {}; to take these fields over, run again with --force-conflicts (or leave them out of the manifest)", owners.join("; ")))
}

/// What [`Plan::apply`] tells of an object.
pub enum Step<'a> {
    /// The server's warnings from the dry run of an object that needed this plan's namespaces or
    /// CustomResourceDefinitions (nothing written yet).
    DryRunWarnings(&'a [String]),
    /// Written: the object as the server stored it, the server's warnings, and what changed.
    Applied { stored: &'a Value, warnings: &'a [String], change: Change },
}

/// What an apply did to an object, in kubectl's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    /// Changed: its resourceVersion moved since the dry run.
    Configured,
    Unchanged,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Created => "created",
            Change::Configured => "configured",
            Change::Unchanged => "unchanged",
        }
    }
}

/// One server-side apply's answer.
struct Written {
    stored: Value,
    warnings: Vec<String>,
    /// The server answered 201 Created: the object did not exist.
    created: bool,
}

/// The message of a `Warning` response header (`299 - "extensions/v1beta1 Ingress is
/// deprecated"`, RFC 7234 as the API server sends it); `None` for other warn codes.
fn warning_text(header: &str) -> Option<String> {
    let quoted = header.strip_prefix("299 - ")?.trim();
    let text = quoted.strip_prefix('"')?.strip_suffix('"')?;
    Some(text.replace("\\\"", "\"").replace("\\\\", "\\"))
}

async fn namespace_exists(tracker: &Tracker, name: &str) -> Result<bool, Error> {
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(tracker.client().clone());
    crate::retry::retrying(|| namespaces.get_opt(name))
        .await
        .map(|found| found.is_some())
        .map_err(|e| Error::from_kube(&format!("looking up namespace {name}"), &e))
}

/// Waits (up to a minute) until a CRD is established, so its kind can be applied.
async fn wait_established(tracker: &Tracker, name: &str) -> Result<(), Error> {
    let resource = tracker.resolver().for_row(&registry::CUSTOM_RESOURCE_DEFINITION).await?;
    let api: Api<DynamicObject> = Api::all_with(tracker.client().clone(), &resource.api);
    for _ in 0..120 {
        let crd = crate::retry::retrying(|| api.get(name)).await.map_err(|e| Error::from_kube(&format!("reading customresourcedefinition/{name}"), &e))?;
        let established = crd.data["status"]["conditions"].as_array().into_iter().flatten().any(|c| c["type"] == "Established" && c["status"] == "True");
        if established {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    Err(Error::cluster(format!("customresourcedefinition/{name} was not established within a minute")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_validation_is_asked_for_where_the_server_version_has_it() {
        let cases = [
            ("1", "20", ValidationSupport::Never),
            ("1", "22+", ValidationSupport::Never),
            ("1", "23", ValidationSupport::WithFeatureGate),
            ("1", "24+", ValidationSupport::WithFeatureGate),
            ("1", "25", ValidationSupport::Always),
            ("1", "33", ValidationSupport::Always),
            ("2", "0", ValidationSupport::Always),
            ("", "", ValidationSupport::Never),
        ];
        for (major, minor, support) in cases {
            assert_eq!(validation_support(major, minor), support, "{major}.{minor}");
        }
        // v1.23/v1.24 with the feature gate list the parameter in their OpenAPI document.
        let gated_on = r#"{"paths": {"/apis/apps/v1/namespaces/{namespace}/deployments/{name}": {"patch": {"parameters": [{"uniqueItems": true, "type": "string", "name": "fieldValidation", "in": "query"}]}}}}"#;
        assert!(openapi_offers_field_validation(gated_on));
        assert!(!openapi_offers_field_validation(
            r#"{"paths": {"/apis/apps/v1/namespaces/{namespace}/deployments/{name}": {"patch": {"parameters": [{"name": "fieldManager"}]}}}}"#
        ));
    }

    #[test]
    fn a_conflict_names_the_fields_and_their_managers_and_the_way_out() {
        // As a v1.20 API server answers an apply over a client-side `kubectl apply` and Helm.
        let status: kube::core::Status = serde_json::from_value(serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Conflict", "code": 409,
            "message": "Apply failed with 3 conflicts: ...",
            "details": {"causes": [
                {"reason": "FieldManagerConflict", "message": "conflict with \"kubectl-client-side-apply\" using apps/v1", "field": ".spec.replicas"},
                {"reason": "FieldManagerConflict", "message": "conflict with \"helm\" using apps/v1", "field": ".metadata.labels.tier"},
                {"reason": "FieldManagerConflict", "message": "conflict with \"kubectl-client-side-apply\" using apps/v1",
                 "field": ".spec.template.spec.containers[name=\"app\"].image"}
            ]}
        }))
        .unwrap();
        assert_eq!(
            describe_conflict(&status).as_deref(),
            Some(
                r#"conflict: .spec.replicas, .spec.template.spec.containers[name="app"].image owned by field manager "kubectl-client-side-apply"; .metadata.labels.tier owned by field manager "helm"; to take these fields over, run again with --force-conflicts (or leave them out of the manifest)"#
            )
        );
        let other_conflict = kube::core::Status { code: 409, message: "the object has been modified".into(), ..Default::default() };
        assert_eq!(describe_conflict(&other_conflict), None);
    }

    #[test]
    fn warning_headers_give_their_message() {
        assert_eq!(
            warning_text(r#"299 - "extensions/v1beta1 Ingress is deprecated in v1.14+, unavailable in v1.22+""#).as_deref(),
            Some("extensions/v1beta1 Ingress is deprecated in v1.14+, unavailable in v1.22+")
        );
        assert_eq!(warning_text(r#"299 - "unknown field \"spec.replica\"""#).as_deref(), Some(r#"unknown field "spec.replica""#));
        assert_eq!(warning_text("199 agent \"other\""), None);
    }
}
