//! Sibling processes refresh at different instants.
//!
//! A server that preloads its application and then forks workers (gunicorn --preload, celery
//! prefork, multiprocessing) hands every worker the same cached token: each keeps using it (no
//! burst of fetches when the workers boot), but left alone they would all refresh it in the
//! same instant. So the first time a process other than the one that cached the token reaches
//! the refresh window, it moves its own refresh instant later by a random part of the first
//! half of the window, leaving at least the second half for the refresh itself. Decided on that
//! slow path only: the cached path never reads the fork generation.

use super::CachedToken;
use crate::clock::Nanos;

/// `cached`, re-cached for this process generation with a refresh instant moved later by a
/// random part of the first half of its refresh window (the expiry does not move).
pub fn spread(cached: &CachedToken, generation: u64) -> CachedToken {
    crate::fork::reseed_jitter_after_fork();
    delayed(cached, generation, fastrand::f64())
}

/// `spread` with the random fraction `jitter` in [0, 1).
pub fn delayed(cached: &CachedToken, generation: u64, jitter: f64) -> CachedToken {
    let window = cached.expires_at.saturating_sub(cached.refresh_at);
    let delay = ((window / 2) as f64 * jitter.clamp(0.0, 1.0)) as Nanos;
    CachedToken {
        token: cached.token.clone(),
        refresh_at: cached.refresh_at.saturating_add(delay).min(cached.expires_at - window / 2),
        expires_at: cached.expires_at,
        wall_refresh_at: cached.wall_refresh_at.saturating_add(delay),
        wall_expires_at: cached.wall_expires_at,
        scope: cached.scope.clone(),
        token_type: cached.token_type.clone(),
        generation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Now;
    use crate::secret::Secret;
    use std::time::Duration;

    #[test]
    fn the_refresh_moves_into_the_first_half_of_the_window_only() {
        let start = Now { mono: 1_000, wall: 5_000 };
        let t = CachedToken::new_in(Secret::new("t"), start, Duration::from_secs(3600), Duration::from_secs(60), 0);
        let second = 1_000_000_000;
        for jitter in [0.0, 0.25, 0.5, 0.999_999] {
            let moved = delayed(&t, 1, jitter);
            assert_eq!(moved.generation, 1);
            assert_eq!(moved.expires_at, t.expires_at);
            assert_eq!(moved.wall_expires_at, t.wall_expires_at);
            assert_eq!(moved.token.expose(), "t");
            let delay = moved.refresh_at - t.refresh_at;
            assert!(delay <= 30 * second, "{delay}");
            assert!(((delay as f64) - 30e9 * jitter).abs() < 1e3, "{delay} for {jitter}");
            assert_eq!(moved.wall_refresh_at - t.wall_refresh_at, delay);
            assert!(moved.expires_at - moved.refresh_at >= 30 * second);
        }
    }
}
