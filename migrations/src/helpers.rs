//! Shared pieces of the migrations' table definitions.

use sea_orm_migration::prelude::*;

/// A foreign key from `from.col` to `to.id`.
pub fn fk(from: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from, col).to(to, "id").to_owned()
}

/// Creates an index, unique or not, on `cols` of `table`.
pub async fn index(
    m: &SchemaManager<'_>,
    table: &'static str,
    name: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut idx = Index::create().name(name).table(table).to_owned();
    if unique {
        idx.unique();
    }
    for c in cols {
        idx.col(*c);
    }
    m.create_index(idx).await
}
