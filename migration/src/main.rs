//! `cargo run -p migration -- up|down|status` (uses `DATABASE_URL`).

#[tokio::main]
async fn main() {
    sea_orm_migration::cli::run_cli(migration::Migrator).await;
}
