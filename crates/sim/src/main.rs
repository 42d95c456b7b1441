//! A simulated kubelet: registers nodes and drives pods through realistic lifecycles against a real API server.
fn main() {}
