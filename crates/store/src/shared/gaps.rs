// The gap analysis's upkeep, included into each backend's `repo` module beside `directory.rs` (whose
// `directory_records` it uses). Its needs are rollup cells (`crate::rollups::METRIC_CASE_NEEDS`), counted
// by every write; what they read of a referral is the service types recorded when it was made. Referrals
// made before those were recorded (migration 0016) get them here, from the directory as it is now, when
// the store opens: before the rollups are rebuilt, so that their cells count them.

use crate::directory::directory_of;

impl This {
    /// Records the service types of every referral that has none recorded yet (a service no longer in
    /// the directory, or no service at all, gets an empty list). One transaction per hotline.
    pub(super) async fn fill_referral_service_types(&self) -> Result<()> {
        let hotlines: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT hotline_id FROM referrals WHERE service_types IS NULL",
        )
        .fetch_all(self.r())
        .await?;
        for hotline_id in hotlines {
            let dir = directory_of(&self.directory_records(&hotline_id).await?)?;
            let classes = lantern_directory::taxonomy::classify(&dir);
            let mut lease = self.lease().await?;
            let mut tx = lease.conn().begin().await?;
            let rows = sqlx::query(
                "SELECT id, service_id FROM referrals WHERE hotline_id = $1 AND service_types IS NULL",
            )
            .bind(&hotline_id)
            .fetch_all(&mut *tx)
            .await?;
            for r in &rows {
                let id: String = r.try_get("id")?;
                let service: Option<String> = r.try_get("service_id")?;
                let types: Vec<String> = service
                    .and_then(|s| classes.get(&s))
                    .map(|(types, _)| types.iter().map(|t| t.code().to_owned()).collect())
                    .unwrap_or_default();
                sqlx::query("UPDATE referrals SET service_types = $1 WHERE id = $2")
                    .bind(json_list(&types))
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            lease.done().durable().await?;
        }
        Ok(())
    }
}
