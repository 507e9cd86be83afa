//! Knowledge-graph nodes and edges.

use crate::server::council::entities::{kg_edge, kg_node};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    Set, Statement,
};

/// A stored node.
pub type Node = kg_node::Model;

/// A stored edge.
pub type Edge = kg_edge::Model;

/// The node of (kind, key): added with `label`, or relabelled when it exists.
pub async fn upsert_node(
    db: &impl ConnectionTrait,
    kind: &str,
    key: &str,
    label: &str,
    now: DateTime<Utc>,
) -> Result<Node, DbErr> {
    // Most calls find the node as it is: a read, not a write.
    let found = kg_node::Entity::find()
        .filter(kg_node::Column::Kind.eq(kind))
        .filter(kg_node::Column::Key.eq(key))
        .one(db)
        .await?;
    if let Some(n) = found.filter(|n| n.label == label) {
        return Ok(n);
    }
    kg_node::Entity::insert(kg_node::ActiveModel {
        kind: Set(kind.to_owned()),
        key: Set(key.to_owned()),
        label: Set(label.to_owned()),
        props: Set("{}".into()),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([kg_node::Column::Kind, kg_node::Column::Key])
            .update_column(kg_node::Column::Label)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    kg_node::Entity::find()
        .filter(kg_node::Column::Kind.eq(kind))
        .filter(kg_node::Column::Key.eq(key))
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("kg node {kind}:{key}")))
}

/// The nodes of these ids (in no particular order).
pub async fn nodes(db: &impl ConnectionTrait, ids: Vec<i64>) -> Result<Vec<Node>, DbErr> {
    kg_node::Entity::find()
        .filter(kg_node::Column::Id.is_in(ids))
        .all(db)
        .await
}

/// The open edge of (src, kind, dst), if there is one.
pub async fn open_edge(
    db: &impl ConnectionTrait,
    src: i64,
    dst: i64,
    kind: &str,
) -> Result<Option<Edge>, DbErr> {
    kg_edge::Entity::find()
        .filter(kg_edge::Column::Src.eq(src))
        .filter(kg_edge::Column::Dst.eq(dst))
        .filter(kg_edge::Column::Kind.eq(kind))
        .filter(kg_edge::Column::ValidTo.is_null())
        .one(db)
        .await
}

/// Opens an edge, valid from `now`.
pub async fn insert_edge(
    db: &impl ConnectionTrait,
    src: i64,
    dst: i64,
    kind: &str,
    weight: f64,
    source: &str,
    now: DateTime<Utc>,
) -> Result<Edge, DbErr> {
    kg_edge::ActiveModel {
        src: Set(src),
        dst: Set(dst),
        kind: Set(kind.to_owned()),
        weight: Set(weight),
        valid_from: Set(now),
        valid_to: Set(None),
        source: Set(source.to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Closes the open `kind` edges from `src` whose target is not in `keep`; how many it closed.
pub async fn close_others(
    db: &impl ConnectionTrait,
    src: i64,
    kind: &str,
    keep: &[i64],
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut q = kg_edge::Entity::update_many()
        .col_expr(kg_edge::Column::ValidTo, Expr::value(now))
        .filter(kg_edge::Column::Src.eq(src))
        .filter(kg_edge::Column::Kind.eq(kind))
        .filter(kg_edge::Column::ValidTo.is_null());
    if !keep.is_empty() {
        q = q.filter(kg_edge::Column::Dst.is_not_in(keep.to_vec()));
    }
    Ok(q.exec(db).await?.rows_affected)
}

fn valid_at(at: Option<DateTime<Utc>>) -> Condition {
    match at {
        None => Condition::all().add(kg_edge::Column::ValidTo.is_null()),
        Some(t) => Condition::all().add(kg_edge::Column::ValidFrom.lte(t)).add(
            Condition::any()
                .add(kg_edge::Column::ValidTo.is_null())
                .add(kg_edge::Column::ValidTo.gt(t)),
        ),
    }
}

fn touching(nodes: &[i64]) -> Condition {
    Condition::any()
        .add(kg_edge::Column::Src.is_in(nodes.to_vec()))
        .add(kg_edge::Column::Dst.is_in(nodes.to_vec()))
}

/// The edges from or to any of `nodes` that were valid at `at` (none: that are open now).
pub async fn edges_touching(
    db: &impl ConnectionTrait,
    nodes: &[i64],
    at: Option<DateTime<Utc>>,
) -> Result<Vec<Edge>, DbErr> {
    kg_edge::Entity::find()
        .filter(valid_at(at))
        .filter(touching(nodes))
        .all(db)
        .await
}

/// The open edges from or to any of `nodes`.
pub async fn open_edges_touching(
    db: &impl ConnectionTrait,
    nodes: &[i64],
) -> Result<Vec<Edge>, DbErr> {
    kg_edge::Entity::find()
        .filter(kg_edge::Column::ValidTo.is_null())
        .filter(touching(nodes))
        .all(db)
        .await
}

/// The projects a project node depends on or is depended on by (open `depends_on` edges).
pub async fn dependency_neighbours(
    db: &impl ConnectionTrait,
    project_node: i64,
) -> Result<Vec<i64>, DbErr> {
    let rows = db
        .query_all(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT CASE WHEN src = $1 THEN dst ELSE src END AS id FROM kg_edges \
             WHERE kind = 'depends_on' AND valid_to IS NULL AND (src = $1 OR dst = $1) \
             ORDER BY id",
            [project_node.into()],
        ))
        .await?;
    rows.iter().map(|r| r.try_get::<i64>("", "id")).collect()
}

/// Up to `limit` other nodes that `uses` a technology the project node uses (open edges), the
/// most shared first, with the labels of what they share.
pub async fn sharing_technology(
    db: &impl ConnectionTrait,
    project_node: i64,
    limit: u64,
) -> Result<Vec<(i64, Vec<String>)>, DbErr> {
    let backend = db.get_database_backend();
    let from = "FROM kg_edges mine JOIN kg_edges o ON o.dst = mine.dst";
    let cond = "mine.src = $1 AND mine.kind = 'uses' AND mine.valid_to IS NULL \
                AND o.kind = 'uses' AND o.valid_to IS NULL AND o.src <> $1";
    let top = db
        .query_all(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT o.src AS id, count(*) AS n {from} WHERE {cond} GROUP BY o.src \
                 ORDER BY n DESC, o.src LIMIT $2"
            ),
            [
                project_node.into(),
                i64::try_from(limit).unwrap_or(i64::MAX).into(),
            ],
        ))
        .await?;
    let mut out: Vec<(i64, Vec<String>)> = Vec::with_capacity(top.len());
    for r in &top {
        out.push((r.try_get::<i64>("", "id")?, Vec::new()));
    }
    if out.is_empty() {
        return Ok(out);
    }
    // The ids are integers read from the database, not input.
    let list = out
        .iter()
        .map(|(id, _)| id.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let labels = db
        .query_all(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT o.src AS id, t.label AS label {from} JOIN kg_nodes t ON t.id = o.dst \
                 WHERE {cond} AND o.src IN ({list}) ORDER BY t.label"
            ),
            [project_node.into()],
        ))
        .await?;
    for r in labels {
        let id: i64 = r.try_get("", "id")?;
        let label: String = r.try_get("", "label")?;
        if let Some((_, l)) = out.iter_mut().find(|(o, _)| *o == id) {
            l.push(label);
        }
    }
    Ok(out)
}
