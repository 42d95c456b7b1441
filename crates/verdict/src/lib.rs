//! Pure verdicts: ready, progressing or failed, and why, from Kubernetes objects. No I/O, no async.
