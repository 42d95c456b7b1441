//! Node registration: Ready nodes with real capacity, so the real scheduler
//! places pods (and refuses the ones that do not fit) as it would anywhere.

use crate::status::time;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

pub struct Capacity {
    pub cpu: String,
    pub memory: String,
    pub pods: u32,
}

/// Creates (or adopts) a node, clears the taints admission adds at creation
/// (`node.kubernetes.io/not-ready`: the node lifecycle controller that would
/// lift it is not running), and reports it Ready with a kubelet endpoint.
pub async fn register(client: &kube::Client, name: &str, capacity: &Capacity, kubelet_port: u16) -> anyhow::Result<()> {
    let api: Api<Node> = Api::all(client.clone());
    let node: Node = serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "node.rollwatch.dev/simulated": "true",
        }},
    }))?;
    match api.create(&PostParams::default(), &node).await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(e) => return Err(e.into()),
    }
    api.patch(name, &PatchParams::default(), &Patch::Merge(json!({"spec": {"taints": null}}))).await?;
    let now = time(Timestamp::now());
    let condition = |kind: &str, status: &str, reason: &str, message: &str| {
        json!({"type": kind, "status": status, "reason": reason, "message": message,
               "lastHeartbeatTime": now, "lastTransitionTime": now})
    };
    let resources = json!({"cpu": capacity.cpu, "memory": capacity.memory, "pods": capacity.pods.to_string()});
    let status = json!({"status": {
        "capacity": resources,
        "allocatable": resources,
        "conditions": [
            condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ],
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet_port}},
        "nodeInfo": {"kubeletVersion": "v1.20.2", "kubeProxyVersion": "v1.20.2", "operatingSystem": "linux",
                     "architecture": "amd64", "containerRuntimeVersion": "rollwatch-sim://0.1.0",
                     "osImage": "rollwatch simulated node", "kernelVersion": "", "machineID": name,
                     "systemUUID": name, "bootID": name},
    }});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(status)).await?;
    Ok(())
}
