//! A simulated kubelet: registers nodes and drives pods through realistic lifecycles against a real API server.
//!
//! Modules: [`behavior`] (per-container behaviour annotations), [`status`] (pod status built from
//! container runtimes), [`events`] (kubelet-style Events with aggregation), [`nodes`] (node
//! registration), [`logs`] (the HTTPS container-log endpoint).
pub mod behavior;
pub mod events;
pub mod logs;
pub mod nodes;
pub mod status;
