//! The row images of a binlog rows event, read in place.
//!
//! mysql_common's `BinlogRow` gives every value of every row its own `Column` holding owned
//! copies of the database, table and column names, parses the table map's optional metadata
//! again for each row, and copies each string value out of the event: capturing a backlog,
//! that was the largest single cost of the worker, for metadata the
//! connector already has in its table model. Here the values are still decoded by
//! mysql_common's `BinlogValue`; only the walk over an image (the bitmap of the columns it
//! holds, the NULL bitmap, one value after another) is ours, done once per event for the
//! column layout, and the values borrow the event's bytes.

use std::io;

use mysql_async::binlog::events::{OptionalMetaExtractor, RowsEventData, TableMapEvent};
use mysql_async::binlog::value::BinlogValue;
use mysql_async::consts::ColumnType;
use mysql_async::Value as MyValue;
use mysql_common::io::ParseBuf;

/// `binlog_row_value_options` bit of a partial update's after image (MySQL 8
/// `PARTIAL_UPDATE_ROWS_EVENT`): some JSON columns hold a diff instead of a value.
const PARTIAL_JSON_UPDATES: u64 = 1;

/// How one column's values are laid out, from the table map.
struct ColumnCodec<'a> {
    ty: ColumnType,
    meta: &'a [u8],
    unsigned: bool,
    /// For a JSON column, its place among the table's JSON columns: its bit in a partial
    /// update's bitmap of JSON columns holding a diff.
    json_ordinal: Option<usize>,
}

/// One row image: the values by column position, borrowed from the event.
pub struct RowImage<'a> {
    values: Vec<Option<BinlogValue<'a>>>,
}

impl<'a> RowImage<'a> {
    /// The value of column `index`; `None` when the image does not hold that column (a
    /// `binlog_row_image` other than FULL), SQL NULL being a present `Value::NULL`.
    pub fn get(&self, index: usize) -> Option<&BinlogValue<'a>> {
        self.values.get(index).and_then(Option::as_ref)
    }

    /// Column `index`'s value, moved out: afterwards the image no longer holds that column.
    pub fn take(&mut self, index: usize) -> Option<BinlogValue<'a>> {
        self.values.get_mut(index).and_then(Option::take)
    }
}

/// The table's columns as the table map lays them out, read once per rows event.
struct Layout<'a> {
    columns: Vec<ColumnCodec<'a>>,
    /// How many of them are JSON: the size of a partial update's bitmap of JSON diffs.
    json_columns: usize,
}

/// The rows of one rows event: `(before, after)` images, as the event type has them.
pub struct RowImages<'a> {
    data: ParseBuf<'a>,
    layout: Layout<'a>,
    /// Positions of the columns each image holds.
    before: Option<Vec<usize>>,
    after: Option<Vec<usize>>,
    /// A MySQL partial update: each after image starts with its value options.
    partial: bool,
    failed: bool,
}

impl<'a> RowImages<'a> {
    pub fn new(rows: &'a RowsEventData<'a>, tme: &'a TableMapEvent<'a>) -> io::Result<Self> {
        let extractor = OptionalMetaExtractor::new(tme.iter_optional_meta())?;
        let mut signedness = extractor.iter_signedness();
        let count = rows.num_columns() as usize;
        let mut columns = Vec::with_capacity(count);
        let mut json_columns = 0;
        for i in 0..count {
            let ty = match tme.get_column_type(i) {
                Ok(Some(ty)) => ty,
                Ok(None) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("the table map has no type for column {i}"),
                    ))
                }
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            };
            // As mysql_common: the signedness bits are for the numeric columns, in order.
            let unsigned = ty.is_numeric_type() && signedness.next().unwrap_or(false);
            let json_ordinal = (ty == ColumnType::MYSQL_TYPE_JSON).then(|| {
                json_columns += 1;
                json_columns - 1
            });
            columns.push(ColumnCodec {
                ty,
                meta: tme.get_column_metadata(i).unwrap_or(&[]),
                unsigned,
                json_ordinal,
            });
        }
        Ok(RowImages {
            data: ParseBuf(rows.rows_data()),
            layout: Layout {
                columns,
                json_columns,
            },
            before: rows.columns_before_image().map(|b| b.iter_ones().collect()),
            after: rows.columns_after_image().map(|b| b.iter_ones().collect()),
            partial: matches!(rows, RowsEventData::PartialUpdateRowsEvent(_)),
            failed: false,
        })
    }

    /// The next row: its before and/or after image.
    fn row(&mut self) -> io::Result<(Option<RowImage<'a>>, Option<RowImage<'a>>)> {
        let RowImages {
            data,
            layout,
            before,
            after,
            partial,
            ..
        } = self;
        let before = match before {
            Some(present) => Some(layout.image(data, present, false)?),
            None => None,
        };
        let after = match after {
            Some(present) => Some(layout.image(data, present, *partial)?),
            None => None,
        };
        Ok((before, after))
    }
}

impl<'a> Layout<'a> {
    /// Reads one image holding the columns at `present` from `data`.
    fn image(
        &self,
        data: &mut ParseBuf<'a>,
        present: &[usize],
        partial: bool,
    ) -> io::Result<RowImage<'a>> {
        let mut partial_json = None;
        if partial {
            let options = data.checked_eat_lenenc_int().ok_or_else(truncated)?;
            if options & PARTIAL_JSON_UPDATES != 0 {
                partial_json = Some(
                    data.checked_eat(self.json_columns.div_ceil(8))
                        .ok_or_else(truncated)?,
                );
            }
        }
        let nulls = data
            .checked_eat(present.len().div_ceil(8))
            .ok_or_else(truncated)?;
        let mut values: Vec<Option<BinlogValue<'a>>> = Vec::new();
        values.resize_with(self.columns.len(), || None);
        let mut next_present = present.iter().copied().enumerate().peekable();
        for (i, column) in self.columns.iter().enumerate() {
            // The partial-JSON bits are for every JSON column of the table, present or not.
            let is_partial = match (partial_json, column.json_ordinal) {
                (Some(bits), Some(ordinal)) => bit_set(bits, ordinal),
                _ => false,
            };
            let Some((slot, _)) = next_present.next_if(|&(_, p)| p == i) else {
                continue;
            };
            values[i] = Some(if bit_set(nulls, slot) {
                BinlogValue::Value(MyValue::NULL)
            } else {
                data.parse::<BinlogValue<'a>>((
                    column.ty,
                    column.meta,
                    column.unsigned,
                    is_partial,
                ))?
            });
        }
        Ok(RowImage { values })
    }
}

impl<'a> Iterator for RowImages<'a> {
    type Item = io::Result<(Option<RowImage<'a>>, Option<RowImage<'a>>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.data.is_empty() {
            return None;
        }
        let row = self.row();
        self.failed = row.is_err();
        Some(row)
    }
}

/// Bit `index` of a MySQL bitmap (least significant bit first).
fn bit_set(bits: &[u8], index: usize) -> bool {
    bits.get(index / 8)
        .is_some_and(|byte| byte & (1 << (index % 8)) != 0)
}

fn truncated() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "a row image ends before its bitmaps",
    )
}

#[cfg(test)]
mod tests {
    use super::bit_set;

    #[test]
    fn bitmap_bits_count_from_the_least_significant_bit_of_each_byte() {
        let bits = [0b0000_0101, 0b1000_0000];
        let set: Vec<usize> = (0..16).filter(|&i| bit_set(&bits, i)).collect();
        assert_eq!(set, vec![0, 2, 15]);
        assert!(!bit_set(&bits, 16), "past the bitmap: not set");
    }
}
