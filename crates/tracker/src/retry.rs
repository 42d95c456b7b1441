//! Retries of one-off requests (the first contact, reads, dry run, apply, patches, discovery, the
//! explanations' pod and log fetches) that the API server could not serve just then: 429 Too
//! Many Requests and 5xx answers, after the server's Retry-After or an exponential back-off, each
//! attempt bounded so a server that stops answering cannot hang a run. Watches are not retried
//! here: their feeds restart themselves. A server still throttling after the last attempt is a
//! cluster access error (exit 4), as one that cannot be reached is.

use std::future::Future;
use std::time::Duration;

/// Attempts per request, the first included.
const ATTEMPTS: u32 = 5;
/// The back-off before the second attempt, doubled for each later one.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The longest wait before an attempt, whatever the server asks for: a run has a timeout too.
const LONGEST_WAIT: Duration = Duration::from_secs(30);
/// How long one attempt may take before it is given up (the API server's own request timeout
/// is 60 s; an admission webhook may take 30 s of it).
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(70);

/// How long to wait before attempt `attempt + 1` after attempt `attempt` (from 1) failed with
/// `error`; `None`: the error is final (the request was refused for what it is, or the
/// attempts are used up).
pub(crate) fn delay_after(attempt: u32, error: &kube::Error) -> Option<Duration> {
    if attempt >= ATTEMPTS {
        return None;
    }
    let kube::Error::Api(status) = error else { return None };
    let transient = match status.code {
        429 | 502..=504 => true,
        // 500 is also what servers before v1.22 answer to a field of the wrong type in an apply.
        500 => !status.message.contains("failed to create typed patch object"),
        _ => false,
    };
    if !transient {
        return None;
    }
    let asked = status.details.as_ref().map(|d| d.retry_after_seconds).filter(|seconds| *seconds > 0);
    let wait = match asked {
        Some(seconds) => Duration::from_secs(seconds.into()),
        None => FIRST_BACKOFF.saturating_mul(1 << (attempt - 1).min(16)),
    };
    Some(wait.min(LONGEST_WAIT))
}

/// Runs `request` until it succeeds, fails for good or runs out of attempts (see [`delay_after`]);
/// an attempt with no answer within [`REQUEST_TIMEOUT`] is tried again as a 504 would be, and
/// the last one's silence is an error. Only for requests that are safe to repeat (server-side
/// apply and patches to the same content are).
pub(crate) async fn retrying<T, Fut>(mut request: impl FnMut() -> Fut) -> Result<T, kube::Error>
where
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut attempt = 1;
    loop {
        let error = match tokio::time::timeout(REQUEST_TIMEOUT, request()).await {
            Ok(Ok(answer)) => return Ok(answer),
            Ok(Err(error)) => error,
            Err(_) => no_answer(),
        };
        let wait = match &error {
            kube::Error::Api(_) => delay_after(attempt, &error),
            _ if is_no_answer(&error) && attempt < ATTEMPTS => Some(FIRST_BACKOFF),
            _ => None,
        };
        let Some(wait) = wait else { return Err(error) };
        tracing::debug!(attempt, ?wait, %error, "retrying a request");
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

/// The error for an attempt that got no answer in time (kube's own transport errors look alike).
fn no_answer() -> kube::Error {
    let timeout = std::io::Error::new(std::io::ErrorKind::TimedOut, format!("no answer from the API server within {}s", REQUEST_TIMEOUT.as_secs()));
    kube::Error::Service(Box::new(timeout))
}

fn is_no_answer(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Service(source) if source.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::TimedOut))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Status an API server answers with; `retryAfterSeconds` as its 429s carry it.
    fn answer(code: u16, message: &str, retry_after_seconds: u32) -> kube::Error {
        let status = serde_json::json!({"code": code, "message": message, "details": {"retryAfterSeconds": retry_after_seconds}});
        kube::Error::Api(Box::new(serde_json::from_value(status).unwrap()))
    }

    #[test]
    fn throttling_and_server_errors_are_retried_after_the_servers_retry_after() {
        assert_eq!(delay_after(1, &answer(429, "too many requests", 3)), Some(Duration::from_secs(3)));
        assert_eq!(delay_after(2, &answer(503, "unavailable", 1)), Some(Duration::from_secs(1)));
        assert_eq!(delay_after(1, &answer(429, "slow down", 3600)), Some(LONGEST_WAIT), "never longer than the cap");
    }

    #[test]
    fn without_a_retry_after_the_back_off_doubles_until_the_attempts_are_used_up() {
        let waits: Vec<Option<Duration>> = (1..=ATTEMPTS).map(|attempt| delay_after(attempt, &answer(502, "bad gateway", 0))).collect();
        let ms = |ms| Some(Duration::from_millis(ms));
        assert_eq!(waits, vec![ms(500), ms(1000), ms(2000), ms(4000), None]);
    }

    #[test]
    fn refusals_of_the_request_itself_are_final() {
        for (code, message) in [(400, "bad"), (403, "forbidden"), (404, "not found"), (409, "conflict"), (422, "invalid"), (401, "unauthorized")] {
            assert_eq!(delay_after(1, &answer(code, message, 1)), None, "{code}");
        }
        let wrong_type = answer(500, "failed to create typed patch object: .spec.replicas: expected numeric", 0);
        assert_eq!(delay_after(1, &wrong_type), None, "an apply the server could not type is the manifest's fault");
        assert_eq!(delay_after(1, &answer(500, "etcdserver: leader changed", 0)), Some(FIRST_BACKOFF));
    }

    #[test]
    fn a_request_is_repeated_until_the_throttling_ends_and_a_refusal_at_once() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        runtime.block_on(async {
            let mut calls = 0;
            let answered = retrying(|| {
                calls += 1;
                let result = if calls < 3 { Err(answer(429, "too many requests", 1)) } else { Ok(calls) };
                async move { result }
            })
            .await;
            assert_eq!(answered.unwrap(), 3);

            let mut calls = 0;
            let refused: Result<(), _> = retrying(|| {
                calls += 1;
                async { Err(answer(422, "invalid", 0)) }
            })
            .await;
            assert!(refused.is_err());
            assert_eq!(calls, 1, "a refusal is not repeated");
        });
    }
}
