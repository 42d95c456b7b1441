//! Probe settings as the kubelet reads them from a container spec (with the
//! API's defaults), and the messages it writes when a probe fails.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::time::Duration;

/// What the probe does; only the failure message depends on it.
#[derive(Debug, Clone, PartialEq)]
pub enum Handler {
    Http,
    Tcp { port: String },
    Exec,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub handler: Handler,
    pub initial_delay: Duration,
    pub period: Duration,
    pub success_threshold: u32,
    pub failure_threshold: u32,
}

impl Probe {
    /// The probe as declared, with the API's defaults (period 10s, thresholds 1 and 3).
    pub fn from_spec(probe: &k8s_openapi::api::core::v1::Probe) -> Probe {
        let seconds = |v: Option<i32>, default: u64| Duration::from_secs(v.map_or(default, |s| s.max(0) as u64));
        let count = |v: Option<i32>, default: u32| v.map_or(default, |n| n.max(1) as u32);
        let handler = if probe.exec.is_some() {
            Handler::Exec
        } else if let Some(tcp) = &probe.tcp_socket {
            Handler::Tcp {
                port: match &tcp.port {
                    IntOrString::Int(n) => n.to_string(),
                    IntOrString::String(s) => s.clone(),
                },
            }
        } else {
            Handler::Http
        };
        Probe {
            handler,
            initial_delay: seconds(probe.initial_delay_seconds, 0),
            // The API rejects a period below 1s; keep the clock moving regardless.
            period: seconds(probe.period_seconds, 10).max(Duration::from_secs(1)),
            success_threshold: count(probe.success_threshold, 1),
            failure_threshold: count(probe.failure_threshold, 3),
        }
    }

    /// The probe a behaviour needs when the spec declares none: an HTTP probe
    /// with the API's defaults, so `never-ready` and `liveness-fail` still act.
    pub fn implicit() -> Probe {
        Probe::from_spec(&Default::default())
    }

    /// What the kubelet's prober reports for a failed probe of a container at `pod_ip`.
    pub fn failure_output(&self, pod_ip: &str) -> String {
        match &self.handler {
            Handler::Http => "HTTP probe failed with statuscode: 500".to_owned(),
            Handler::Tcp { port } => format!("dial tcp {pod_ip}:{port}: connect: connection refused"),
            // An exec probe reports the command's output; the simulated command prints nothing.
            Handler::Exec => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1 as api;

    #[test]
    fn defaults_follow_the_api() {
        let p = Probe::implicit();
        assert_eq!((p.initial_delay, p.period, p.success_threshold, p.failure_threshold), (Duration::ZERO, Duration::from_secs(10), 1, 3));
        assert_eq!(p.failure_output("10.1.0.1"), "HTTP probe failed with statuscode: 500");
    }

    #[test]
    fn declared_settings_and_handlers() {
        let spec = api::Probe {
            tcp_socket: Some(api::TCPSocketAction { port: IntOrString::Int(8080), ..Default::default() }),
            initial_delay_seconds: Some(5),
            period_seconds: Some(2),
            success_threshold: Some(2),
            failure_threshold: Some(1),
            ..Default::default()
        };
        let p = Probe::from_spec(&spec);
        assert_eq!((p.initial_delay, p.period, p.success_threshold, p.failure_threshold), (Duration::from_secs(5), Duration::from_secs(2), 2, 1));
        assert_eq!(p.failure_output("10.1.0.1"), "dial tcp 10.1.0.1:8080: connect: connection refused");
        let exec = api::Probe { exec: Some(Default::default()), ..Default::default() };
        assert_eq!(Probe::from_spec(&exec).failure_output("10.1.0.1"), "");
    }
}
