//! When to refresh, and how often refreshing is allowed at all.

use super::DEFAULT_MAX_REFRESHES_PER_MINUTE;

/// The budget's rolling window.
pub const BUDGET_WINDOW_MS: u64 = 60_000;

/// When to start refreshing a token.
///
/// `lead_ms` early, so requests never carry a token that expires in flight,
/// but never earlier than half-way through its life, or short-lived tokens
/// would be refreshed as soon as they arrive.
pub fn refresh_at_ms(expires_at_ms: u64, lifetime_ms: u64, lead_ms: u64) -> u64 {
    expires_at_ms.saturating_sub(lead_ms.min(lifetime_ms / 2))
}

/// A ceiling on refresh requests per rolling minute.
///
/// The last line of defence against refresh loops: a server issuing
/// already-expired or near-zero-lifetime tokens, or a wildly wrong local
/// clock, would otherwise make the session refresh as fast as the network
/// allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshBudget {
    max_per_minute: u32,
    sent_at_ms: Vec<u64>,
}

impl Default for RefreshBudget {
    fn default() -> Self {
        RefreshBudget::new(DEFAULT_MAX_REFRESHES_PER_MINUTE)
    }
}

impl RefreshBudget {
    /// A budget of `max_per_minute` (at least 1, so refreshing stays possible).
    pub fn new(max_per_minute: u32) -> Self {
        RefreshBudget {
            max_per_minute: max_per_minute.max(1),
            sent_at_ms: Vec::new(),
        }
    }

    /// The configured ceiling.
    pub fn max_per_minute(&self) -> u32 {
        self.max_per_minute
    }

    /// Records a refresh request at `now_ms` if the budget allows it.
    pub fn try_take(&mut self, now_ms: u64) -> bool {
        self.forget_old(now_ms);
        let used = u32::try_from(self.sent_at_ms.len()).unwrap_or(u32::MAX);
        if used >= self.max_per_minute {
            return false;
        }
        self.sent_at_ms.push(now_ms);
        true
    }

    /// Earliest time [`RefreshBudget::try_take`] can succeed again.
    pub fn next_free_at_ms(&self, now_ms: u64) -> u64 {
        let used = u32::try_from(self.sent_at_ms.len()).unwrap_or(u32::MAX);
        if used < self.max_per_minute {
            return now_ms;
        }
        self.sent_at_ms
            .iter()
            .map(|&t| t.min(now_ms))
            .min()
            .map_or(now_ms, |oldest| oldest.saturating_add(BUDGET_WINDOW_MS))
    }

    /// Drops entries older than the window. Entries "in the future" (the
    /// clock jumped back) are pulled to now rather than kept for however far
    /// the clock jumped, which would block refreshing for that long.
    fn forget_old(&mut self, now_ms: u64) {
        for t in &mut self.sent_at_ms {
            *t = (*t).min(now_ms);
        }
        self.sent_at_ms
            .retain(|&t| now_ms.saturating_sub(t) < BUDGET_WINDOW_MS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_is_capped_at_half_the_lifetime() {
        assert_eq!(refresh_at_ms(3_600_000, 3_600_000, 60_000), 3_540_000);
        assert_eq!(refresh_at_ms(100_000, 100_000, 60_000), 50_000);
        assert_eq!(refresh_at_ms(1_001, 1, 60_000), 1_001);
        assert_eq!(refresh_at_ms(10, u64::MAX, u64::MAX), 0);
    }

    #[test]
    fn budget_allows_max_per_rolling_minute() {
        let mut b = RefreshBudget::new(3);
        assert!(b.try_take(0));
        assert!(b.try_take(10));
        assert!(b.try_take(20));
        assert!(!b.try_take(30));
        assert_eq!(b.next_free_at_ms(30), 60_000);
        assert!(!b.try_take(59_999));
        assert!(b.try_take(60_000));
        assert!(!b.try_take(60_001));
        assert_eq!(b.next_free_at_ms(60_001), 60_010);
    }

    #[test]
    fn zero_max_still_allows_one() {
        let mut b = RefreshBudget::new(0);
        assert_eq!(b.max_per_minute(), 1);
        assert!(b.try_take(5));
        assert!(!b.try_take(6));
        assert_eq!(RefreshBudget::default().max_per_minute(), 10);
    }

    #[test]
    fn clock_jumping_back_does_not_block_for_long() {
        let mut b = RefreshBudget::new(1);
        assert!(b.try_take(10_000_000));
        assert!(!b.try_take(1_000));
        assert_eq!(b.next_free_at_ms(1_000), 61_000);
        assert!(b.try_take(61_000));
    }
}
