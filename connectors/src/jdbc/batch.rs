//! A batch of changes made ready to write: several changes to one key collapse to the last
//! one (in record order), a truncate drops what came before it for its table, and the rest is
//! grouped per table and shape so that each group is one bulk statement.
//!
//! After collapsing, every key appears once per table, so the order in which a table's deletes
//! and upserts are written does not matter (groups are sorted by key); the truncate, if any,
//! goes first.

use std::collections::HashMap;
use std::sync::Arc;

use super::change::{Change, ChangeOp};
use super::ident::TableId;
use super::layout::RowShape;

/// Rows of one shape.
#[derive(Debug)]
pub struct Group {
    pub shape: Arc<RowShape>,
    pub changes: Vec<Change>,
}

/// Everything one batch does to one table.
#[derive(Debug)]
pub struct TableWork {
    pub table: Arc<TableId>,
    pub truncate: bool,
    pub deletes: Vec<Group>,
    pub upserts: Vec<Group>,
}

impl TableWork {
    pub fn changes(&self) -> impl Iterator<Item = &Change> {
        self.deletes
            .iter()
            .chain(&self.upserts)
            .flat_map(|g| g.changes.iter())
    }
}

/// Collapses `changes` (in record order) into per-table work, tables in order of first
/// appearance.
pub fn collapse(changes: Vec<Change>) -> Vec<TableWork> {
    let mut slots: Vec<Option<Change>> = Vec::with_capacity(changes.len());
    let mut by_key: HashMap<(usize, Vec<u8>), usize> = HashMap::with_capacity(changes.len());
    let mut truncated: Vec<Arc<TableId>> = Vec::new();
    let mut key = Vec::new();
    for change in changes {
        let table = &change.shape.table;
        let table_id = Arc::as_ptr(table) as usize;
        if change.op == ChangeOp::Truncate {
            for slot in slots.iter_mut() {
                if slot
                    .as_ref()
                    .is_some_and(|c| Arc::ptr_eq(&c.shape.table, table))
                {
                    *slot = None;
                }
            }
            by_key.retain(|(t, _), _| *t != table_id);
            if !truncated.iter().any(|t| Arc::ptr_eq(t, table)) {
                truncated.push(table.clone());
            }
            continue;
        }
        if change.shape.pk.is_empty() {
            slots.push(Some(change));
            continue;
        }
        key.clear();
        for i in &change.shape.pk {
            if let Some(cell) = change.cells.get(*i) {
                cell.encode_key(&mut key);
            }
        }
        if let Some(previous) = by_key.insert((table_id, key.clone()), slots.len()) {
            slots[previous] = None;
        }
        slots.push(Some(change));
    }

    let mut work: Vec<TableWork> = Vec::new();
    let entry = |work: &mut Vec<TableWork>, table: &Arc<TableId>| -> usize {
        match work.iter().position(|w| Arc::ptr_eq(&w.table, table)) {
            Some(i) => i,
            None => {
                work.push(TableWork {
                    table: table.clone(),
                    truncate: false,
                    deletes: Vec::new(),
                    upserts: Vec::new(),
                });
                work.len() - 1
            }
        }
    };
    for table in &truncated {
        let i = entry(&mut work, table);
        work[i].truncate = true;
    }
    for change in slots.into_iter().flatten() {
        let i = entry(&mut work, &change.shape.table);
        let groups = match change.op {
            ChangeOp::Delete => &mut work[i].deletes,
            _ => &mut work[i].upserts,
        };
        match groups
            .iter_mut()
            .find(|g| Arc::ptr_eq(&g.shape, &change.shape))
        {
            Some(g) => g.changes.push(change),
            None => groups.push(Group {
                shape: change.shape.clone(),
                changes: vec![change],
            }),
        }
    }
    // Each key is there once, so a group's order is free: ascending keys let the database
    // walk its primary-key index once per statement instead of jumping around it.
    for group in work
        .iter_mut()
        .flat_map(|w| w.deletes.iter_mut().chain(w.upserts.iter_mut()))
        .filter(|g| !g.shape.pk.is_empty())
    {
        let pk = &group.shape.pk;
        group.changes.sort_by(|a, b| {
            pk.iter()
                .map(|&i| match (a.cells.get(i), b.cells.get(i)) {
                    (Some(x), Some(y)) => x.key_order(y),
                    _ => std::cmp::Ordering::Equal,
                })
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    work
}
