//! A simulated kubelet: registers nodes and drives pods through realistic lifecycles against a real API server.
//!
//! Pure logic: [`behavior`] (per-container behaviour annotations), [`probe`] (probe settings and
//! failure messages), [`podspec`] (what the lifecycle reads from a Pod), [`lifecycle`] (the pod
//! lifecycle state machine), [`status`] (pod status built from container runtimes), [`podip`]
//! (pod IP allocation). I/O: [`driver`] (the pod watch), [`worker`] (one task per pod: effects,
//! status writes, deletion), [`config`] (ConfigMap/Secret checks against the API), [`events`]
//! (kubelet-style Events with aggregation), [`nodes`] (node registration), [`logs`] (the HTTPS
//! container-log endpoint).
pub mod behavior;
pub mod config;
pub mod driver;
pub mod events;
pub mod lifecycle;
pub mod logs;
pub mod nodes;
pub mod podip;
pub mod podspec;
pub mod probe;
pub mod status;
pub mod worker;
