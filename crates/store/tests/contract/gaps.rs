//! The gap analysis's needs, on every backend: the `case_needs` rollup cells count what cases needed
//! (recorded needs and referrals not withdrawn) per state and county, service and population, of one
//! hotline only, kept by every write and equal to a rebuild; referrals made before the cells existed get
//! their service types from the directory when the store opens. (The supply side is counted from the
//! directory by `lantern_directory::supply`, tested there.)

use super::*;
use lantern_directory::ext::{LanternExt, VettingInfo};
use lantern_directory::model::{
    Address, Directory, Location, Organization, Service, ServiceArea, ServiceAtLocation,
};
use lantern_directory::taxonomy::{install, population_attribute, service_type_attribute};
use lantern_domain::codes::{Population, ServiceType, UsState, Vetting};
use lantern_store::rollups::METRIC_CASE_NEEDS;
use lantern_store::{
    DirectoryChange, DirectoryRecord, NewParty, NewReferral, RollupCell, RollupFilter,
};

fn vetted(status: Vetting) -> Option<LanternExt> {
    Some(LanternExt {
        vetting: Some(VettingInfo {
            status,
            vetted_on: None,
            vetted_by: None,
            reverify_due: None,
        }),
        ..LanternExt::default()
    })
}

fn service(dir: &mut Directory, id: &str, vetting: Vetting, t: ServiceType, pops: &[Population]) {
    dir.service.insert(
        id.into(),
        Service {
            id: id.into(),
            organization_id: Some("o1".into()),
            status: Some("active".into()),
            lantern: vetted(vetting),
            ..Service::default()
        },
    );
    let a = service_type_attribute(id, t);
    dir.attribute.insert(a.id.clone(), a);
    for &p in pops {
        let a = population_attribute(id, p);
        dir.attribute.insert(a.id.clone(), a);
    }
}

fn at_houston(dir: &mut Directory, service_id: &str) {
    dir.service_at_location.insert(
        format!("sal-{service_id}"),
        ServiceAtLocation {
            id: format!("sal-{service_id}"),
            service_id: Some(service_id.into()),
            location_id: Some("l1".into()),
            ..ServiceAtLocation::default()
        },
    );
}

/// A shelter for women and one for men in Houston (Harris County), a shelter for men serving
/// California by area, and a legal service in Houston still pending vetting.
fn directory() -> Vec<DirectoryRecord> {
    use Population::{Adults, Men, Women};
    use ServiceType::{EmergencyShelter, LegalServices};
    let mut dir = Directory::default();
    install(&mut dir);
    dir.organization.insert(
        "o1".into(),
        Organization {
            id: "o1".into(),
            name: Some("Casa Segura".into()),
            ..Organization::default()
        },
    );
    dir.location.insert(
        "l1".into(),
        Location {
            id: "l1".into(),
            organization_id: Some("o1".into()),
            ..Location::default()
        },
    );
    dir.address.insert(
        "d1".into(),
        Address {
            id: "d1".into(),
            location_id: Some("l1".into()),
            address_1: Some("12 Hidden Lane".into()),
            state_province: Some("TX".into()),
            postal_code: Some("77002".into()),
            ..Address::default()
        },
    );
    service(
        &mut dir,
        "women",
        Vetting::Vetted,
        EmergencyShelter,
        &[Women, Adults],
    );
    at_houston(&mut dir, "women");
    service(&mut dir, "men", Vetting::Vetted, EmergencyShelter, &[Men]);
    at_houston(&mut dir, "men");
    service(&mut dir, "legal", Vetting::Pending, LegalServices, &[Men]);
    at_houston(&mut dir, "legal");
    service(
        &mut dir,
        "ca-men",
        Vetting::Vetted,
        EmergencyShelter,
        &[Men],
    );
    dir.service_area.insert(
        "area".into(),
        ServiceArea {
            id: "area".into(),
            service_id: Some("ca-men".into()),
            extent: Some("CA".into()),
            extent_type: Some("state".into()),
            ..ServiceArea::default()
        },
    );
    dir.tables()
        .into_iter()
        .flat_map(|(table, rows)| {
            rows.into_iter().map(move |row| DirectoryRecord {
                table: table.clone(),
                id: row["id"].as_str().unwrap().to_owned(),
                json: serde_json::Value::Object(row).to_string(),
            })
        })
        .collect()
}

async fn case_with_victim(
    s: &dyn Store,
    hotline_id: &str,
    (state, form, details): (&str, &str, serde_json::Value),
    victim: NewParty,
) -> String {
    let mut new = new_case(hotline_id, state);
    new.form = form.into();
    new.details_json = details.to_string();
    let case = s.create_case(&ctx(), &new).await.unwrap();
    s.add_party(
        &ctx(),
        hotline_id,
        &NewParty {
            case_id: case.id.clone(),
            role: "potential_victim".into(),
            ..victim
        },
    )
    .await
    .unwrap();
    case.id
}

async fn refer(
    s: &dyn Store,
    hotline_id: &str,
    case_id: &str,
    (service_id, service_type): (&str, ServiceType),
) -> String {
    let r = s
        .create_referral(
            &ctx(),
            &NewReferral {
                hotline_id: hotline_id.into(),
                case_id: case_id.into(),
                kind: "service".into(),
                status: "sent".into(),
                service_id: Some(service_id.into()),
                organization_id: Some("o1".into()),
                target_name: "Casa Segura".into(),
                basis: "consent".into(),
                consent_by: Some("the caller".into()),
                consent_method: Some("verbal".into()),
                shared_json: "{}".into(),
                service_types: vec![service_type.code().into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    r.id
}

fn man(age: i64) -> NewParty {
    NewParty {
        gender: Some("man".into()),
        age: Some(age),
        ..NewParty::default()
    }
}

/// A hotline's `case_needs` cells.
async fn need_cells(s: &dyn Store, hotline_id: &str) -> Vec<RollupCell> {
    let filter = RollupFilter {
        metric: Some(METRIC_CASE_NEEDS.into()),
        ..RollupFilter::default()
    };
    s.rollups(hotline_id, &filter).await.unwrap()
}

fn cases_of(
    needs: &[RollupCell],
    state: UsState,
    county: Option<&str>,
    service: ServiceType,
    population: Population,
) -> i64 {
    needs
        .iter()
        .filter(|n| {
            n.key.state == state.code()
                && n.key.county == county.unwrap_or("")
                && n.key.service == service.code()
                && n.key.population == population.code()
        })
        .map(|n| n.count)
        .sum()
}

#[tokio::test]
async fn needs_from_cases_and_referrals_are_counted_per_state_and_county_by_every_write() {
    use Population::{Adults, ForeignNationals, LaborTraffickingSurvivors, Men, Minors, Women};
    use ServiceType::{EmergencyShelter, LegalServices};
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let b = hotline(s, "beta").await;
        s.change_directory(
            &ctx(),
            &a,
            &DirectoryChange {
                action: "directory.import".into(),
                upserts: directory(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let shelter = serde_json::json!({"needs": ["emergency_shelter"],
            "locations": [{"state": "TX", "zip": "77002"}]});
        // A man in labor trafficking in Houston needing shelter.
        case_with_victim(s, &a, ("TX", "labor", shelter.clone()), man(30)).await;
        // A man from Mexico in labor trafficking somewhere in Texas, needing shelter and referred to
        // the (unvetted) legal service: his referral says he needed legal help.
        let c2 = case_with_victim(
            s,
            &a,
            (
                "TX",
                "labor",
                serde_json::json!({"needs": ["emergency_shelter"]}),
            ),
            NewParty {
                gender: Some("man".into()),
                nationality: Some("MX".into()),
                age_band: Some("24-26".into()),
                ..NewParty::default()
            },
        )
        .await;
        refer(s, &a, &c2, ("legal", LegalServices)).await;
        // Needs nothing recorded and no referral: not counted.
        case_with_victim(s, &a, ("TX", "sex", serde_json::json!({})), man(40)).await;
        // Only a withdrawn referral: not counted.
        let c4 = case_with_victim(s, &a, ("TX", "labor", serde_json::json!({})), man(41)).await;
        let r = refer(s, &a, &c4, ("legal", LegalServices)).await;
        s.move_referral(
            &ctx(),
            &a,
            &r,
            &lantern_store::ReferralMove {
                from: "sent".into(),
                to: "withdrawn".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        // A girl in California needing shelter, her county named without its kind.
        let girl = NewParty {
            gender: Some("woman".into()),
            age: Some(16),
            ..NewParty::default()
        };
        let ca = serde_json::json!({"needs": ["emergency_shelter"],
            "locations": [{"state": "CA", "county": "Fresno"}]});
        case_with_victim(s, &a, ("CA", "sex", ca), girl.clone()).await;
        // Another hotline's case never counts.
        case_with_victim(s, &b, ("TX", "labor", shelter), man(25)).await;

        let n = &need_cells(s, &a).await;
        assert_eq!(cases_of(n, UsState::Tx, None, EmergencyShelter, Men), 2);
        assert_eq!(
            cases_of(n, UsState::Tx, Some("Harris County"), EmergencyShelter, Men),
            1
        );
        assert_eq!(cases_of(n, UsState::Tx, None, EmergencyShelter, Adults), 2);
        assert_eq!(
            cases_of(
                n,
                UsState::Tx,
                None,
                EmergencyShelter,
                LaborTraffickingSurvivors
            ),
            2
        );
        assert_eq!(cases_of(n, UsState::Tx, None, LegalServices, Men), 1);
        assert_eq!(
            cases_of(n, UsState::Tx, None, LegalServices, ForeignNationals),
            1
        );
        assert_eq!(cases_of(n, UsState::Tx, None, EmergencyShelter, Women), 0);
        assert_eq!(
            cases_of(
                n,
                UsState::Ca,
                Some("Fresno County"),
                EmergencyShelter,
                Minors
            ),
            1
        );
        assert!(
            n.iter()
                .filter(|x| x.key.state == "TX")
                .all(|x| x.key.form == "labor" && x.key.month.is_empty()),
            "{n:?}"
        );
        // Withdrawing the shelter case's need moves its cells out, a rebuild agrees with the writes, and
        // the other hotline counts its own case only.
        let other = need_cells(s, &b).await;
        assert_eq!(
            cases_of(&other, UsState::Tx, None, EmergencyShelter, Men),
            1
        );
        assert_eq!(cases_of(&other, UsState::Tx, None, LegalServices, Men), 0);
        s.rebuild_rollups(&ctx(), &a).await.unwrap();
        assert_eq!(&need_cells(s, &a).await, n);

        // A database from before the needs were counted: its referrals have no service types and it has
        // no cells. Opening it fills the types in from the directory and builds the cells.
        raw(&db, "UPDATE referrals SET service_types = NULL").await;
        raw(&db, "DELETE FROM rollup_cells").await;
        let reopened = lantern_store::open(&db.url, db.keys.clone(), &OpenOptions::default())
            .await
            .unwrap();
        assert_eq!(&need_cells(&*reopened, &a).await, n);
    }
}
