//! The check the kubelet makes when it builds a container's environment: every
//! ConfigMap and Secret that `envFrom` and `env[].valueFrom` reference must
//! exist (and have the key), unless marked optional. Checked for real against
//! the API, with the kubelet's messages, so fixing the config later lets the
//! container start.

use k8s_openapi::api::core::v1::{ConfigMap, Container, Secret};
use kube::api::Api;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    ConfigMap,
    Secret,
}

/// One reference from a container's environment to a ConfigMap or Secret.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub source: Source,
    pub name: String,
    /// The key `env[].valueFrom` reads; `None` for `envFrom`, which takes them all.
    pub key: Option<String>,
    pub optional: bool,
}

/// The container's references, in the kubelet's order: `envFrom` first, then `env`.
pub fn references(container: &Container) -> Vec<Reference> {
    let mut refs = Vec::new();
    for from in container.env_from.iter().flatten() {
        if let Some(cm) = &from.config_map_ref {
            refs.push(Reference { source: Source::ConfigMap, name: cm.name.clone(), key: None, optional: cm.optional.unwrap_or(false) });
        }
        if let Some(secret) = &from.secret_ref {
            refs.push(Reference { source: Source::Secret, name: secret.name.clone(), key: None, optional: secret.optional.unwrap_or(false) });
        }
    }
    for var in container.env.iter().flatten() {
        let Some(from) = &var.value_from else { continue };
        if let Some(cm) = &from.config_map_key_ref {
            refs.push(Reference { source: Source::ConfigMap, name: cm.name.clone(), key: Some(cm.key.clone()), optional: cm.optional.unwrap_or(false) });
        }
        if let Some(secret) = &from.secret_key_ref {
            refs.push(Reference {
                source: Source::Secret,
                name: secret.name.clone(),
                key: Some(secret.key.clone()),
                optional: secret.optional.unwrap_or(false),
            });
        }
    }
    refs
}

/// The kubelet's verdict on one reference, given the referenced object's keys
/// (`None`: the object does not exist).
pub fn verdict(namespace: &str, reference: &Reference, keys: Option<&BTreeSet<String>>) -> Result<(), String> {
    let (kind, missing_object) = match reference.source {
        // The kubelet's config managers name the resource in the singular.
        Source::ConfigMap => ("ConfigMap", format!("configmap \"{}\" not found", reference.name)),
        Source::Secret => ("Secret", format!("secret \"{}\" not found", reference.name)),
    };
    match (keys, &reference.key) {
        _ if reference.optional => Ok(()),
        (None, _) => Err(missing_object),
        (Some(keys), Some(key)) if !keys.contains(key) => Err(format!("couldn't find key {key} in {kind} {namespace}/{}", reference.name)),
        (Some(_), _) => Ok(()),
    }
}

/// Checks `refs` against the API. The first failing reference decides, as in the kubelet.
pub async fn check(client: &kube::Client, namespace: &str, refs: &[Reference]) -> Result<(), String> {
    for reference in refs {
        let keys = fetch_keys(client, namespace, reference.source, &reference.name).await.map_err(|e| e.to_string())?;
        verdict(namespace, reference, keys.as_ref())?;
    }
    Ok(())
}

async fn fetch_keys(client: &kube::Client, namespace: &str, source: Source, name: &str) -> kube::Result<Option<BTreeSet<String>>> {
    Ok(match source {
        Source::ConfigMap => Api::<ConfigMap>::namespaced(client.clone(), namespace)
            .get_opt(name)
            .await?
            .map(|cm| cm.data.unwrap_or_default().into_keys().chain(cm.binary_data.unwrap_or_default().into_keys()).collect()),
        Source::Secret => Api::<Secret>::namespaced(client.clone(), namespace)
            .get_opt(name)
            .await?
            .map(|s| s.data.unwrap_or_default().into_keys().chain(s.string_data.unwrap_or_default().into_keys()).collect()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn container(spec: serde_json::Value) -> Container {
        serde_json::from_value(spec).unwrap()
    }

    #[test]
    fn env_from_comes_before_env() {
        let c = container(json!({"name": "app", "env": [
            {"name": "A", "value": "plain"},
            {"name": "B", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token", "optional": true}}},
        ], "envFrom": [{"configMapRef": {"name": "settings"}}]}));
        let refs = references(&c);
        assert_eq!(refs.len(), 2);
        assert_eq!(refs[0], Reference { source: Source::ConfigMap, name: "settings".into(), key: None, optional: false });
        assert_eq!(refs[1], Reference { source: Source::Secret, name: "creds".into(), key: Some("token".into()), optional: true });
        assert!(references(&container(json!({"name": "plain"}))).is_empty());
    }

    #[test]
    fn messages_match_the_kubelet() {
        let keys: BTreeSet<String> = ["present".to_owned()].into();
        let key_ref = |source, key: &str| Reference { source, name: "settings".into(), key: Some(key.into()), optional: false };
        assert_eq!(verdict("ns", &key_ref(Source::ConfigMap, "absent"), Some(&keys)), Err("couldn't find key absent in ConfigMap ns/settings".into()));
        assert_eq!(verdict("ns", &key_ref(Source::Secret, "absent"), Some(&keys)), Err("couldn't find key absent in Secret ns/settings".into()));
        assert_eq!(verdict("ns", &key_ref(Source::ConfigMap, "present"), Some(&keys)), Ok(()));
        assert_eq!(verdict("ns", &key_ref(Source::ConfigMap, "x"), None), Err("configmap \"settings\" not found".into()));
        assert_eq!(verdict("ns", &key_ref(Source::Secret, "x"), None), Err("secret \"settings\" not found".into()));
        let optional = Reference { optional: true, ..key_ref(Source::Secret, "x") };
        assert_eq!(verdict("ns", &optional, None), Ok(()));
        let whole = Reference { key: None, ..key_ref(Source::ConfigMap, "") };
        assert_eq!(verdict("ns", &whole, Some(&BTreeSet::new())), Ok(()));
    }
}
