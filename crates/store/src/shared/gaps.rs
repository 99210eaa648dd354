// The gap analysis's reads (see `crate::gaps`), included into each backend's `repo` module beside
// `directory.rs` (whose `directory_records` it uses): coded columns only, of one hotline.

use crate::directory::directory_of;
use crate::gaps::{CaseRow, GapCounts, GapStore, VictimRow, tally};

#[async_trait]
impl GapStore for This {
    async fn gap_counts(&self, hotline_id: &str, today: jiff::civil::Date) -> Result<GapCounts> {
        let cases = sqlx::query("SELECT id, state, form, details FROM cases WHERE hotline_id = $1")
            .bind(hotline_id)
            .fetch_all(self.r())
            .await?
            .iter()
            .map(|r| {
                Ok(CaseRow {
                    id: r.try_get("id")?,
                    state: r.try_get("state")?,
                    form: r.try_get("form")?,
                    details: r.try_get("details")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let victims = sqlx::query(
            "SELECT case_id, gender, age, age_band, nationality FROM parties \
             WHERE hotline_id = $1 AND role = 'potential_victim'",
        )
        .bind(hotline_id)
        .fetch_all(self.r())
        .await?
        .iter()
        .map(|r| {
            Ok(VictimRow {
                case_id: r.try_get("case_id")?,
                gender: r.try_get("gender")?,
                age: r.try_get("age")?,
                age_band: r.try_get("age_band")?,
                nationality: r.try_get("nationality")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let referrals = sqlx::query(
            "SELECT case_id, service_id FROM referrals \
             WHERE hotline_id = $1 AND service_id IS NOT NULL AND status <> 'withdrawn'",
        )
        .bind(hotline_id)
        .fetch_all(self.r())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("case_id")?, r.try_get("service_id")?)))
        .collect::<Result<Vec<(String, String)>>>()?;
        let dir = directory_of(&self.directory_records(hotline_id).await?)?;
        tally(&cases, &victims, &referrals, &dir, today)
    }
}
