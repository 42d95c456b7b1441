//! The rollwatch command line: presentation over the tracker and the verdict engine.
fn main() {}
