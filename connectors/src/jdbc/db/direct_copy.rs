//! When an upsert batch is worth trying as a plain COPY into the target table.
//!
//! Change streams are mostly inserts of keys the target has never seen, and for those an
//! upsert is an insert: a COPY straight into the table is PostgreSQL's fastest insert, where
//! the staged `INSERT … SELECT … ON CONFLICT` pays for the rows twice (into the stage, then
//! into the table) and for a speculative insertion per row (docs/benchmarks.md has the
//! rates). A batch that touches an existing key makes the COPY fail; the writer
//! then rolls back to a savepoint and merges as before, so the result is the same either way
//! and only the failed attempt is wasted. This policy keeps that waste small when the stream
//! turns to updates: after each failure the next attempts are skipped for twice as many
//! batches as before (up to [`MAX_SKIP`]), and each success halves that again.

/// The most batches skipped after failures in a row: an update-heavy stream wastes at most
/// one attempt in this many batches.
pub const MAX_SKIP: u32 = 64;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DirectCopy {
    /// Batches still to merge before the next attempt.
    skip: u32,
    /// Batches skipped after the last failure.
    penalty: u32,
}

impl DirectCopy {
    /// Whether this batch should try the COPY; counts the batches skipped.
    pub fn attempt(&mut self) -> bool {
        if self.skip == 0 {
            return true;
        }
        self.skip -= 1;
        false
    }

    pub fn succeeded(&mut self) {
        self.penalty /= 2;
    }

    /// The COPY met a key (or a value) it could not take: merge instead for a while.
    pub fn failed(&mut self) {
        self.penalty = (self.penalty * 2).clamp(1, MAX_SKIP);
        self.skip = self.penalty;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempts(policy: &mut DirectCopy, batches: usize, fails: bool) -> usize {
        let mut tried = 0;
        for _ in 0..batches {
            if policy.attempt() {
                tried += 1;
                if fails {
                    policy.failed();
                } else {
                    policy.succeeded();
                }
            }
        }
        tried
    }

    #[test]
    fn a_stream_of_new_keys_tries_every_batch() {
        let mut p = DirectCopy::default();
        assert_eq!(attempts(&mut p, 100, false), 100);
    }

    #[test]
    fn a_stream_of_updates_wastes_at_most_one_batch_in_max_skip_once_backed_off() {
        let mut p = DirectCopy::default();
        // 1 + 2 + 4 + … + 64 skipped after the first seven failures: 7 + 127 batches.
        assert_eq!(attempts(&mut p, 134, true), 7);
        assert_eq!(attempts(&mut p, 10 * (MAX_SKIP as usize + 1), true), 10);
    }

    #[test]
    fn successes_after_a_burst_of_updates_bring_the_attempts_back() {
        let mut p = DirectCopy::default();
        attempts(&mut p, 1000, true);
        let tried = attempts(&mut p, 200, false);
        // At most MAX_SKIP batches wait for the first attempt; from then on every one tries.
        assert!(tried >= 200 - MAX_SKIP as usize, "tried {tried}");
        assert_eq!(attempts(&mut p, 50, false), 50);
    }
}
