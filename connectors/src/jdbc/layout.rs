//! Row shapes: which table, which columns (with their kinds), which of them is the primary
//! key. Shapes are interned, so records of one table and schema share one `Arc` and the
//! writer can group rows, prepare statements and remember verified tables by pointer.

use std::collections::HashSet;
use std::sync::Arc;

use super::dialect::Shape;
use super::ident::TableId;
use super::types::ColumnDef;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RowShape {
    pub table: Arc<TableId>,
    pub columns: Vec<ColumnDef>,
    /// Indices into `columns`.
    pub pk: Vec<usize>,
}

impl RowShape {
    pub fn shape(&self) -> Shape<'_> {
        Shape {
            table: &self.table,
            columns: &self.columns,
            pk: &self.pk,
        }
    }

    /// The identity of an interned shape.
    pub fn id(self: &Arc<Self>) -> usize {
        Arc::as_ptr(self) as usize
    }
}

/// Interned shapes and table names. Bounded only by the number of distinct shapes the topics
/// carry (tables × schema versions).
#[derive(Default)]
pub struct Interner {
    shapes: HashSet<Arc<RowShape>>,
    tables: HashSet<Arc<TableId>>,
}

impl Interner {
    pub fn shape(&mut self, shape: RowShape) -> Arc<RowShape> {
        if let Some(existing) = self.shapes.get(&shape) {
            return existing.clone();
        }
        let shape = Arc::new(shape);
        self.shapes.insert(shape.clone());
        shape
    }

    pub fn table(&mut self, table: TableId) -> Arc<TableId> {
        if let Some(existing) = self.tables.get(&table) {
            return existing.clone();
        }
        let table = Arc::new(table);
        self.tables.insert(table.clone());
        table
    }
}
