//! I/O: shared watches, apply, logs; turns cluster state into a stream of verdicts.
