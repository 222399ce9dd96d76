//! The consumer-group offsets of one sink task: what the sink has flushed, and committing it.
//!
//! Every flushed batch is followed by an asynchronous commit of the partitions it moved:
//! waiting for the coordinator's answer would add a round trip to every batch, and a
//! lost commit costs only records delivered again (sinks apply them idempotently). When a
//! commit fails, the next one carries every flushed offset again; stopping commits
//! synchronously. Offsets of revoked partitions are forgotten, never committed: their new
//! owner resumes from the group's committed offsets.

use std::collections::{BTreeMap, BTreeSet};

use rdkafka::{Offset, TopicPartitionList};

use crate::connector::TopicPartition;

type Partition = (String, i32);

#[derive(Default)]
pub(crate) struct Commits {
    /// The next offset to consume of every partition flushed so far.
    flushed: BTreeMap<Partition, i64>,
    /// Partitions flushed further since the last commit was sent.
    moved: BTreeSet<Partition>,
}

impl Commits {
    /// Records that the sink has everything before these offsets.
    pub(crate) fn flushed(&mut self, offsets: BTreeMap<Partition, i64>) {
        for (partition, next) in offsets {
            let e = self.flushed.entry(partition.clone()).or_insert(next);
            *e = (*e).max(next);
            self.moved.insert(partition);
        }
    }

    pub(crate) fn revoke(&mut self, partitions: &[TopicPartition]) {
        for tp in partitions {
            let p = (tp.topic.clone(), tp.partition);
            self.flushed.remove(&p);
            self.moved.remove(&p);
        }
    }

    /// The offsets to commit now: those of the partitions flushed further since the last
    /// commit, or all of them (after a failed commit, or when stopping). Empty: nothing to do.
    pub(crate) fn take(&mut self, all: bool) -> Vec<(Partition, i64)> {
        let moved = std::mem::take(&mut self.moved);
        self.flushed
            .iter()
            .filter(|(p, _)| all || moved.contains(*p))
            .map(|(p, o)| (p.clone(), *o))
            .collect()
    }

    /// Offsets handed out by [`Commits::take`] whose commit could not even be sent.
    pub(crate) fn unsent(&mut self, offsets: Vec<(Partition, i64)>) {
        for (p, _) in offsets {
            if self.flushed.contains_key(&p) {
                self.moved.insert(p);
            }
        }
    }
}

/// The list rdkafka commits; a partition it refuses is left out (and named in `refused`).
pub(crate) fn commit_list(
    offsets: &[(Partition, i64)],
    refused: &mut Vec<String>,
) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    for ((topic, partition), offset) in offsets {
        if let Err(e) = tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset)) {
            refused.push(format!("{topic}-{partition}@{offset}: {e}"));
        }
    }
    tpl
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offsets(list: &[(&str, i32, i64)]) -> BTreeMap<Partition, i64> {
        list.iter()
            .map(|(t, p, o)| (((*t).to_owned(), *p), *o))
            .collect()
    }

    fn plain(taken: Vec<(Partition, i64)>) -> Vec<(String, i32, i64)> {
        taken.into_iter().map(|((t, p), o)| (t, p, o)).collect()
    }

    #[test]
    fn each_commit_carries_only_the_partitions_flushed_since_the_last() {
        let mut c = Commits::default();
        c.flushed(offsets(&[("t", 0, 10), ("t", 1, 5)]));
        assert_eq!(
            plain(c.take(false)),
            vec![("t".into(), 0, 10), ("t".into(), 1, 5)]
        );
        c.flushed(offsets(&[("t", 1, 9)]));
        assert_eq!(plain(c.take(false)), vec![("t".into(), 1, 9)]);
        assert!(c.take(false).is_empty(), "nothing moved since");
    }

    #[test]
    fn after_a_failed_commit_every_flushed_offset_is_committed_again() {
        let mut c = Commits::default();
        c.flushed(offsets(&[("t", 0, 10), ("t", 1, 5)]));
        let _ = c.take(false);
        c.flushed(offsets(&[("t", 1, 9)]));
        assert_eq!(
            plain(c.take(true)),
            vec![("t".into(), 0, 10), ("t".into(), 1, 9)]
        );
    }

    #[test]
    fn offsets_never_move_back_and_unsent_ones_are_sent_next_time() {
        let mut c = Commits::default();
        c.flushed(offsets(&[("t", 0, 10)]));
        c.flushed(offsets(&[("t", 0, 7)]));
        let taken = c.take(false);
        assert_eq!(plain(taken.clone()), vec![("t".into(), 0, 10)]);
        c.unsent(taken);
        assert_eq!(plain(c.take(false)), vec![("t".into(), 0, 10)]);
    }

    #[test]
    fn revoked_partitions_are_never_committed() {
        let mut c = Commits::default();
        c.flushed(offsets(&[("t", 0, 10), ("t", 1, 5)]));
        let taken = c.take(false);
        c.revoke(&[TopicPartition::new("t", 1)]);
        c.unsent(taken);
        assert_eq!(plain(c.take(true)), vec![("t".into(), 0, 10)]);
    }
}
