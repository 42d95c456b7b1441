//! Does a pod fit a node at all? The scheduler's fit arithmetic on requests and allocatable, in
//! whole milli-units: what rules out a pod no node of the cluster can ever hold, and what
//! `rollwatch plan --cluster` checks against the nodes' free room before anything is applied.
//!
//! A pod's requests are computed as the scheduler does (`resourcehelper.PodRequests`): app
//! containers and sidecars (init containers with `restartPolicy: Always`) add up; an ordinary init
//! container runs alone beside the sidecars started before it, so the pod needs the larger of the
//! two; the pod's `overhead` comes on top. A container without a request for a resource that has
//! a limit requests its limit, as the API server's defaulting writes it. Quantities are parsed
//! here (a few lines) rather than with a decimal crate: the scheduler compares integers too.
//!
//! The cluster autoscaler's traces the unschedulable rule reads are named here
//! ([`AUTOSCALER_STATUS`], [`AUTOSCALER_EVENTS`], [`AUTOSCALER_EVENT_SELECTOR`]); which kinds a
//! verdict reads (Nodes, those Events) is the kind registry's to say.

use std::collections::BTreeMap;
use std::fmt;

use crate::api::{Container, Map, PodSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde_json::Value;

use crate::estimate::Estimate;

/// The cluster autoscaler's status ConfigMap (namespace, name): present where one runs.
pub const AUTOSCALER_STATUS: (&str, &str) = ("kube-system", "cluster-autoscaler-status");
/// The cluster autoscaler's events about a pod it was asked to find a node for: it will not add
/// one (with why), or it did.
pub const AUTOSCALER_EVENTS: (&str, &str) = ("NotTriggerScaleUp", "TriggeredScaleUp");
/// The field selector of those events: they are Normal ones, which the Warning-only watch misses.
pub const AUTOSCALER_EVENT_SELECTOR: &str = "source=cluster-autoscaler";

/// Amounts per resource name (`cpu`, `memory`, `ephemeral-storage`, `nvidia.com/gpu`, ...), in
/// thousandths of the unit (millicores for cpu, millibytes for memory), rounded up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources(pub BTreeMap<String, i128>);

impl Resources {
    /// The amount of `resource`, zero when absent.
    pub fn get(&self, resource: &str) -> i128 {
        self.0.get(resource).copied().unwrap_or(0)
    }

    fn add(&mut self, other: &Resources) {
        for (name, amount) in &other.0 {
            *self.0.entry(name.clone()).or_insert(0) += amount;
        }
    }

    fn subtract(&mut self, other: &Resources) {
        for (name, amount) in &other.0 {
            *self.0.entry(name.clone()).or_insert(0) -= amount;
        }
    }

    fn max_with(&mut self, other: &Resources) {
        for (name, amount) in &other.0 {
            let mine = self.0.entry(name.clone()).or_insert(0);
            *mine = (*mine).max(*amount);
        }
    }

    /// The first resource requested here (non-zero) that `room` has less of.
    pub fn first_short_of(&self, room: &Resources) -> Option<&str> {
        self.0.iter().find(|(name, amount)| **amount > 0 && **amount > room.get(name)).map(|(name, _)| name.as_str())
    }

    /// `cpu 2, memory 4Gi`, the non-zero amounts.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self.0.iter().filter(|(_, amount)| **amount != 0).map(|(name, amount)| format!("{name} {}", Amount(name, *amount))).collect();
        parts.join(", ")
    }

    /// One resource's amount as Kubernetes writes it (`500m`, `2`, `4Gi`).
    pub fn show(&self, resource: &str) -> String {
        Amount(resource, self.get(resource)).to_string()
    }
}

/// An amount of a resource for display: cpu in cores or millicores, bytes with a binary suffix
/// when exact, anything else as a number.
struct Amount<'a>(&'a str, i128);

impl fmt::Display for Amount<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Amount(resource, milli) = *self;
        if milli % 1000 != 0 {
            return write!(f, "{milli}m");
        }
        let units = milli / 1000;
        let bytes = resource == "memory" || resource == "ephemeral-storage" || resource.starts_with("hugepages-");
        if bytes && units != 0 {
            for (suffix, size) in [("Ei", 1i128 << 60), ("Pi", 1 << 50), ("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)] {
                if units % size == 0 {
                    return write!(f, "{}{suffix}", units / size);
                }
            }
        }
        write!(f, "{units}")
    }
}

/// A quantity (`100m`, `1.5Gi`, `2e3`, `128974848`) in thousandths of its unit, rounded up.
pub fn parse_quantity(text: &str) -> Result<i128, String> {
    let problem = || format!("invalid quantity {text:?} (expected e.g. 500m, 2, 1.5Gi, 128974848)");
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-')).unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let (negative, number) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number.strip_prefix('+').unwrap_or(number)),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || !(whole.chars().chain(fraction.chars())).all(|c| c.is_ascii_digit()) || fraction.len() > 30 {
        return Err(problem());
    }
    let digits: i128 = format!("{whole}{fraction}").parse().map_err(|_| problem())?;
    // value = digits × 10^-fraction × (2^binary | 10^decimal); kept as a fraction of integers.
    let (mut numerator, mut denominator) = (digits.checked_mul(1000).ok_or_else(problem)?, 10i128.checked_pow(fraction.len() as u32).ok_or_else(problem)?);
    let binary = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"].iter().position(|s| *s == suffix);
    let decimal_exponent: i32 = match (binary, suffix) {
        (Some(power), _) => {
            numerator = numerator.checked_mul(1i128 << (10 * (power + 1))).ok_or_else(problem)?;
            0
        }
        (None, "n") => -9,
        (None, "u") => -6,
        (None, "m") => -3,
        (None, "") => 0,
        (None, "k") => 3,
        (None, "M") => 6,
        (None, "G") => 9,
        (None, "T") => 12,
        (None, "P") => 15,
        (None, "E") => 18,
        (None, exponent) if exponent.starts_with(['e', 'E']) => exponent[1..].parse().map_err(|_| problem())?,
        _ => return Err(problem()),
    };
    let scale = 10i128.checked_pow(decimal_exponent.unsigned_abs()).ok_or_else(problem)?;
    if decimal_exponent >= 0 {
        numerator = numerator.checked_mul(scale).ok_or_else(problem)?;
    } else {
        denominator = denominator.checked_mul(scale).ok_or_else(problem)?;
    }
    let milli = numerator / denominator + i128::from(numerator % denominator != 0);
    Ok(if negative { -milli } else { milli })
}

fn quantities(map: Option<&Map<Quantity>>, field: &str) -> Result<Resources, String> {
    let mut resources = Resources::default();
    for (name, quantity) in map.into_iter().flat_map(|map| map.iter()) {
        let amount = parse_quantity(&quantity.0).map_err(|problem| format!("{field}.{name}: {problem}"))?;
        resources.0.insert(name.to_string(), amount);
    }
    Ok(resources)
}

/// A container's requests, its limits where it has no request; `Err` names the field.
fn container_requests(container: &Container, field: &str) -> Result<Resources, String> {
    let Some(resources) = container.resources.as_ref() else { return Ok(Resources::default()) };
    let mut requests = quantities(resources.limits.as_ref(), &format!("{field}.resources.limits"))?;
    let explicit = quantities(resources.requests.as_ref(), &format!("{field}.resources.requests"))?;
    requests.0.extend(explicit.0);
    Ok(requests)
}

/// What the scheduler reserves on a node for a pod of `spec`; `Err` names the field at fault.
pub fn pod_requests(spec: &PodSpec) -> Result<Resources, String> {
    let mut total = Resources::default();
    for (index, container) in spec.containers.iter().enumerate() {
        total.add(&container_requests(container, &format!("spec.containers[{index}]"))?);
    }
    let mut sidecars = Resources::default();
    let mut init_peak = Resources::default();
    for (index, container) in spec.init_containers.iter().flatten().enumerate() {
        let requests = container_requests(container, &format!("spec.initContainers[{index}]"))?;
        let mut running = sidecars.clone();
        if container.restart_policy.as_deref() == Some("Always") {
            total.add(&requests);
            sidecars.add(&requests);
            running = sidecars.clone();
        } else {
            running.add(&requests);
        }
        init_peak.max_with(&running);
    }
    total.max_with(&init_peak);
    if let Some(overhead) = &spec.overhead {
        total.add(&quantities(Some(overhead), "spec.overhead")?);
    }
    Ok(total)
}

/// A node's `status.allocatable`, from the object as the API writes it; `Err` holds the field
/// and the problem.
pub fn allocatable(node: &Value) -> Result<Resources, (String, String)> {
    let Some(map) = node.pointer("/status/allocatable").and_then(Value::as_object) else { return Ok(Resources::default()) };
    let mut resources = Resources::default();
    for (name, quantity) in map {
        let field = || format!("status.allocatable.{name}");
        let text = quantity.as_str().ok_or_else(|| (field(), "expected a quantity string".to_string()))?;
        resources.0.insert(name.clone(), parse_quantity(text).map_err(|problem| (field(), problem))?);
    }
    Ok(resources)
}

/// Whether a cluster autoscaler may add a node for an unschedulable pod, as far as is known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Autoscaler {
    /// Not known (offline, or its status ConfigMap could not be read): assume it may.
    #[default]
    Unknown,
    /// No status ConfigMap: no cluster autoscaler runs, no node will be added.
    Absent,
    /// Its status ConfigMap exists.
    Present,
}

/// Why `requests` fit none of `nodes` (name → room), or `None` when one has room for all of
/// them, or no node is known. Names the resource and the node with the most of it.
pub fn fits_no_node<'a>(requests: &Resources, nodes: impl IntoIterator<Item = (&'a str, &'a Resources)>) -> Option<String> {
    let nodes: Vec<(&str, &Resources)> = nodes.into_iter().collect();
    if nodes.is_empty() || nodes.iter().any(|(_, room)| requests.first_short_of(room).is_none()) {
        return None;
    }
    // A resource more than any node has says it best; else every node lacks something.
    let beyond_all = requests.0.keys().find_map(|resource| {
        let (largest, room) = nodes.iter().max_by_key(|(name, room)| (room.get(resource), std::cmp::Reverse(*name)))?;
        (requests.get(resource) > room.get(resource)).then_some((resource, *largest, *room))
    });
    Some(match beyond_all {
        Some((resource, largest, room)) => {
            format!("requests {resource} {}, more than any node has (the largest, {largest}, has {} allocatable)", requests.show(resource), room.show(resource))
        }
        None => {
            let (name, room) = nodes[0];
            let short = requests.first_short_of(room).unwrap_or("cpu");
            format!("requests {}, which no node has all of ({name} has {short} {})", requests.describe(), room.show(short))
        }
    })
}

/// Each node's room left: its allocatable minus the requests of the pods bound to it (not
/// terminated), as `(node name, requests)`.
pub fn free_room(nodes: &BTreeMap<String, Resources>, bound: impl IntoIterator<Item = (String, Resources)>) -> BTreeMap<String, Resources> {
    let mut free = nodes.clone();
    for (node, requests) in bound {
        if let Some(room) = free.get_mut(&node) {
            room.subtract(&requests);
        }
    }
    free
}

/// How many pods of `requests` a node's `room` holds (`u64::MAX` for a pod requesting nothing).
fn pods_fitting(requests: &Resources, room: &Resources) -> u64 {
    let requested = requests.0.iter().filter(|(_, amount)| **amount > 0);
    requested.map(|(name, amount)| u64::try_from(room.get(name).max(0) / amount).unwrap_or(u64::MAX)).min().unwrap_or(u64::MAX)
}

/// Whether the first wave of a rollout fits the nodes' free room at once, and in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaveFit {
    pub fits: bool,
    pub message: String,
}

/// Whether `pods` new pods of `requests` fit the `free` room of the nodes at once (identical
/// pods: each node holds as many as its scarcest resource allows); with `one_per_node` (a
/// DaemonSet) whether every node has room for one. `workload` names it in the message.
pub fn wave_fit(workload: &str, requests: &Resources, pods: u32, free: &BTreeMap<String, Resources>, one_per_node: bool) -> WaveFit {
    let each = requests.describe();
    if each.is_empty() {
        return WaveFit { fits: true, message: format!("{workload}: its pods request no resources: nothing to fit") };
    }
    let short = |room: &Resources| requests.first_short_of(room).unwrap_or("cpu").to_string();
    if one_per_node {
        let without: Vec<String> = free
            .iter()
            .filter(|(_, room)| pods_fitting(requests, room) == 0)
            .map(|(node, room)| {
                let resource = short(room);
                format!("{node}: {resource} {} free", room.show(&resource))
            })
            .collect();
        let message = match without.as_slice() {
            [] => format!("{workload}: its pod (requesting {each}) fits the free allocatable of every node ({})", free.len()),
            _ => format!(
                "{workload}: its pod (requesting {each}) fits the free allocatable of {} of {} nodes (not {})",
                free.len() - without.len(),
                free.len(),
                without.join(", ")
            ),
        };
        return WaveFit { fits: without.is_empty(), message };
    }
    let room_for = free.values().map(|room| pods_fitting(requests, room)).fold(0u64, u64::saturating_add);
    if room_for >= u64::from(pods) {
        let message = format!("{workload}: the first wave's {pods} new pod(s) (each requesting {each}) fit the nodes' free allocatable");
        return WaveFit { fits: true, message };
    }
    // The resource that bounds how many fit, and the node with the most of it.
    let fitting_by = |name: &str, amount: i128| free.values().map(|room| room.get(name).max(0) / amount).sum::<i128>();
    let requested = requests.0.iter().filter(|(_, amount)| **amount > 0);
    let scarce = requested.min_by_key(|(name, amount)| fitting_by(name, **amount)).map(|(name, _)| name.clone()).unwrap_or_default();
    let freest = free.iter().max_by_key(|(name, room)| (room.get(&scarce), std::cmp::Reverse(*name)));
    let detail = match freest {
        Some((node, room)) => format!("; the most free, {node}, has {scarce} {} free", room.show(&scarce)),
        None => "; no node is known".to_string(),
    };
    let message = format!("{workload}: only {room_for} of the first wave's {pods} new pods fit the nodes' free allocatable (each requests {each}{detail})");
    WaveFit { fits: false, message }
}

/// The first wave of a rollout (`workload`, a Deployment, StatefulSet or DaemonSet as written in
/// its manifest; its waves from `estimate`) against the nodes' `free` room. `Err` names the field
/// at fault.
pub fn first_wave_fit(workload: &Value, estimate: &Estimate, free: &BTreeMap<String, Resources>) -> Result<WaveFit, String> {
    let template = workload.pointer("/spec/template/spec").cloned().unwrap_or_else(|| Value::Object(Default::default()));
    let spec: PodSpec = serde_json::from_value(template).map_err(|error| format!("spec.template.spec: {error}"))?;
    let requests = pod_requests(&spec).map_err(|problem| format!("spec.template.{problem}"))?;
    let pods = estimate.waves.first().map_or(0, |wave| wave.pods);
    let one_per_node = workload.get("kind").and_then(Value::as_str) == Some("DaemonSet");
    Ok(wave_fit(&estimate.workload, &requests, pods, free, one_per_node))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_read_as_kubernetes_writes_them() {
        for (text, milli) in [
            ("100m", 100),
            ("2", 2000),
            ("0.5", 500),
            ("1.5Gi", 1_610_612_736_000),
            ("128974848", 128_974_848_000),
            ("129e6", 129_000_000_000),
            ("1k", 1_000_000),
            ("8Gi", 8_589_934_592_000),
            ("1n", 1),
            ("1500u", 2),
        ] {
            assert_eq!(parse_quantity(text), Ok(milli), "{text}");
        }
        for bad in ["", "Gi", "1.2.3", "1 Gi", "1Zi", "12x"] {
            assert!(parse_quantity(bad).is_err(), "{bad:?}");
        }
    }

    fn spec(value: Value) -> PodSpec {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_pods_requests_are_the_schedulers_init_max_sidecar_sum_and_overhead() {
        let pod = spec(serde_json::json!({
            "overhead": {"cpu": "50m"},
            "initContainers": [
                {"name": "migrate", "image": "m", "resources": {"requests": {"cpu": "3", "memory": "1Gi"}}},
                {"name": "proxy", "image": "p", "restartPolicy": "Always", "resources": {"requests": {"cpu": "250m", "memory": "128Mi"}}},
                {"name": "warm", "image": "w", "resources": {"limits": {"cpu": "1", "memory": "2Gi"}}}
            ],
            "containers": [
                {"name": "app", "image": "a", "resources": {"requests": {"cpu": "500m", "memory": "512Mi", "nvidia.com/gpu": "1"}}},
                {"name": "log", "image": "l", "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "64Mi"}}}
            ]
        }));
        let requests = pod_requests(&pod).unwrap();
        // cpu: max(migrate 3, warm 1 + proxy 0.25, app+log+proxy 0.85) + overhead 0.05.
        assert_eq!(requests.show("cpu"), "3050m");
        // memory: max(1Gi, 2Gi + 128Mi, 512Mi + 64Mi + 128Mi).
        assert_eq!(requests.show("memory"), "2176Mi");
        assert_eq!(requests.get("nvidia.com/gpu"), 1000);
    }

    #[test]
    fn a_pod_larger_than_every_node_names_the_resource_and_the_largest_node() {
        let room = |cpu: &str, memory: &str| {
            Resources([("cpu".to_string(), parse_quantity(cpu).unwrap()), ("memory".to_string(), parse_quantity(memory).unwrap())].into())
        };
        let (small, large) = (room("2", "4Gi"), room("4", "8Gi"));
        let nodes = [("node-a", &small), ("node-b", &large)];
        let big = Resources([("cpu".to_string(), 8000)].into());
        assert_eq!(fits_no_node(&big, nodes).as_deref(), Some("requests cpu 8, more than any node has (the largest, node-b, has 4 allocatable)"));
        let fits = Resources([("cpu".to_string(), 3000), ("memory".to_string(), parse_quantity("6Gi").unwrap())].into());
        assert_eq!(fits_no_node(&fits, nodes), None);
        let gpu = Resources([("nvidia.com/gpu".to_string(), 1000)].into());
        assert_eq!(fits_no_node(&gpu, nodes).as_deref(), Some("requests nvidia.com/gpu 1, more than any node has (the largest, node-a, has 0 allocatable)"));
        // Each resource fits some node, but no node has both.
        let skewed = [("node-a", &room("8", "1Gi")), ("node-b", &room("1", "16Gi"))].map(|(n, r)| (n, r.clone()));
        let both = Resources([("cpu".to_string(), 2000), ("memory".to_string(), parse_quantity("2Gi").unwrap())].into());
        let message = fits_no_node(&both, skewed.iter().map(|(n, r)| (*n, r))).unwrap();
        assert_eq!(message, "requests cpu 2, memory 2Gi, which no node has all of (node-a has memory 1Gi)");
        assert_eq!(fits_no_node(&big, []), None, "no node known: nothing to tell");
    }

    #[test]
    fn a_first_wave_fits_the_room_its_nodes_have_left() {
        let cpu = |amount: &str| Resources([("cpu".to_string(), parse_quantity(amount).unwrap())].into());
        let nodes: BTreeMap<String, Resources> = [("node-a", "4"), ("node-b", "4")].map(|(n, c)| (n.to_string(), cpu(c))).into();
        let free = free_room(&nodes, [("node-a".to_string(), cpu("3")), ("node-b".to_string(), cpu("1500m")), ("elsewhere".to_string(), cpu("1"))]);
        assert_eq!(free["node-a"].show("cpu"), "1");
        assert_eq!(free["node-b"].show("cpu"), "2500m");

        // Room for one 2-cpu pod (node-b), none on node-a.
        assert_eq!(
            wave_fit("deployment/web", &cpu("2"), 1, &free, false).message,
            "deployment/web: the first wave's 1 new pod(s) (each requesting cpu 2) fit the nodes' free allocatable"
        );
        let two = wave_fit("deployment/web", &cpu("2"), 2, &free, false);
        assert!(!two.fits);
        assert_eq!(
            two.message,
            "deployment/web: only 1 of the first wave's 2 new pods fit the nodes' free allocatable (each requests cpu 2; the most free, node-b, has cpu 2500m free)"
        );
        let agent = wave_fit("daemonset/agent", &cpu("2"), 2, &free, true);
        assert_eq!(agent.message, "daemonset/agent: its pod (requesting cpu 2) fits the free allocatable of 1 of 2 nodes (not node-a: cpu 1 free)");
        assert!(wave_fit("deployment/web", &Resources::default(), 50, &free, false).fits);
    }
}
