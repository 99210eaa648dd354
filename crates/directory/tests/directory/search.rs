use crate::fixture::{Spec, add};
use lantern_directory::demo::generate;
use lantern_directory::index::{
    MatchReason, Near, SearchError, SearchIndex, SearchQuery, haversine_km,
};
use lantern_directory::model::Directory;
use lantern_directory::schedule::OpenStatus;
use lantern_directory::taxonomy::classify;
use lantern_domain::codes::{Population, ServiceType};
use proptest::prelude::*;

// Monday 23 November 2026, 10:00 in Chicago.
fn monday_morning() -> jiff::Timestamp {
    "2026-11-23T16:00:00Z".parse().unwrap()
}

fn names(dir: &Directory, hits: &[lantern_directory::index::SearchHit]) -> Vec<String> {
    hits.iter()
        .map(|h| dir.service[&h.service_id].name.clone().unwrap())
        .collect()
}

#[test]
fn an_open_spanish_speaking_legal_service_near_a_zip_is_found_with_its_distance_and_reasons() {
    let mut dir = Directory::default();
    add(
        &mut dir,
        1,
        &Spec {
            name: "Spanish Legal",
            langs: &["en", "es"],
            ..Spec::default()
        },
    );
    add(
        &mut dir,
        2,
        &Spec {
            name: "English Legal",
            ..Spec::default()
        },
    );
    add(
        &mut dir,
        3,
        &Spec {
            name: "Closed Legal",
            langs: &["es"],
            hours: Some(("SA", "09:00", "12:00")),
            ..Spec::default()
        },
    );
    add(
        &mut dir,
        4,
        &Spec {
            name: "Far Legal",
            langs: &["es"],
            lat: 29.76,
            lng: -95.37,
            tz: "America/Chicago",
            ..Spec::default()
        },
    );
    let idx = SearchIndex::build(&dir);

    let hits = idx
        .search(&SearchQuery {
            near: Some(Near::Zip {
                zip: "60601".into(),
            }),
            radius_km: Some(25.0),
            service_types: vec![ServiceType::LegalServices],
            languages: vec!["Spanish".into()],
            open_at: Some(monday_morning()),
            ..Default::default()
        })
        .unwrap();

    assert_eq!(names(&dir, &hits), vec!["Spanish Legal"]);
    let hit = &hits[0];
    assert!(hit.distance_km.unwrap() < 3.0);
    assert_eq!(hit.open, OpenStatus::Open);
    assert!(
        hit.why
            .iter()
            .any(|w| matches!(w, MatchReason::Within { .. }))
    );
    assert!(hit.why.contains(&MatchReason::Language {
        language: "Spanish".into()
    }));
    assert!(hit.why.contains(&MatchReason::ServiceType {
        code: ServiceType::LegalServices
    }));
    assert!(hit.why.contains(&MatchReason::Vetted));
}

#[test]
fn law_enforcement_is_returned_only_when_vetted_even_without_asking_for_vetted_only() {
    let mut dir = Directory::default();
    add(
        &mut dir,
        1,
        &Spec {
            name: "Vetted Police",
            types: &[ServiceType::LawEnforcementLocal],
            vetted: true,
            ..Spec::default()
        },
    );
    add(
        &mut dir,
        2,
        &Spec {
            name: "Unvetted Police",
            types: &[ServiceType::LawEnforcementLocal],
            vetted: false,
            ..Spec::default()
        },
    );
    add(
        &mut dir,
        3,
        &Spec {
            name: "Unvetted Clinic",
            types: &[ServiceType::MedicalCare],
            vetted: false,
            ..Spec::default()
        },
    );
    let idx = SearchIndex::build(&dir);

    let all = names(&dir, &idx.search(&SearchQuery::default()).unwrap());
    assert!(all.contains(&"Vetted Police".to_string()));
    assert!(!all.contains(&"Unvetted Police".to_string()));
    assert!(all.contains(&"Unvetted Clinic".to_string()));
    let vetted = names(
        &dir,
        &idx.search(&SearchQuery {
            vetted_only: true,
            ..Default::default()
        })
        .unwrap(),
    );
    assert_eq!(vetted, vec!["Vetted Police"]);
}

#[test]
fn hours_unknown_and_always_open_are_distinct_from_closed() {
    let mut dir = Directory::default();
    add(
        &mut dir,
        1,
        &Spec {
            name: "Unknown",
            hours: None,
            ..Spec::default()
        },
    );
    add(
        &mut dir,
        2,
        &Spec {
            name: "Always",
            hours: Some(("", "00:00", "23:59")),
            ..Spec::default()
        },
    );
    add(
        &mut dir,
        3,
        &Spec {
            name: "Weekend",
            hours: Some(("SA,SU", "09:00", "17:00")),
            ..Spec::default()
        },
    );
    let idx = SearchIndex::build(&dir);
    let q = SearchQuery {
        open_at: Some(monday_morning()),
        ..Default::default()
    };

    assert_eq!(names(&dir, &idx.search(&q).unwrap()), vec!["Always"]);
    let with_unknown = idx
        .search(&SearchQuery {
            include_unknown_hours: true,
            ..q.clone()
        })
        .unwrap();
    let mut got: Vec<(String, OpenStatus)> = with_unknown
        .iter()
        .map(|h| (dir.service[&h.service_id].name.clone().unwrap(), h.open))
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        vec![
            ("Always".into(), OpenStatus::AlwaysOpen),
            ("Unknown".into(), OpenStatus::Unknown)
        ]
    );
}

#[test]
fn a_virtual_service_is_found_by_containment_of_the_callers_state() {
    let mut dir = Directory::default();
    let (svc, _) = add(
        &mut dir,
        1,
        &Spec {
            name: "Texas Hotline",
            types: &[ServiceType::CrisisLine],
            ..Spec::default()
        },
    );
    dir.service_at_location.clear();
    dir.service_area.insert(
        "area".into(),
        lantern_directory::model::ServiceArea {
            id: "area".into(),
            service_id: Some(svc),
            extent: Some("TX".into()),
            extent_type: Some("state".into()),
            ..Default::default()
        },
    );
    let idx = SearchIndex::build(&dir);

    let in_texas = idx
        .search(&SearchQuery {
            near: Some(Near::Zip {
                zip: "77002".into(),
            }),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(names(&dir, &in_texas), vec!["Texas Hotline"]);
    assert!(
        matches!(&in_texas[0].why[0], MatchReason::CoversArea { kind, area } if kind == "state" && area == "TX")
    );
    assert_eq!(in_texas[0].distance_km, None);
    let in_oklahoma = idx
        .search(&SearchQuery {
            near: Some(Near::Zip {
                zip: "73102".into(),
            }),
            ..Default::default()
        })
        .unwrap();
    assert!(in_oklahoma.is_empty());
}

#[test]
fn results_are_ranked_by_distance_and_free_text_matches_names_and_descriptions() {
    let mut dir = Directory::default();
    add(
        &mut dir,
        1,
        &Spec {
            name: "Far Harbor Counsel",
            lat: 42.0,
            ..Spec::default()
        },
    );
    add(
        &mut dir,
        2,
        &Spec {
            name: "Near Harbor Counsel",
            lat: 41.9,
            ..Spec::default()
        },
    );
    add(
        &mut dir,
        3,
        &Spec {
            name: "Other",
            lat: 41.88,
            ..Spec::default()
        },
    );
    let idx = SearchIndex::build(&dir);
    let q = SearchQuery {
        near: Some(Near::Point {
            lat: 41.8781,
            lng: -87.6298,
        }),
        radius_km: Some(50.0),
        ..Default::default()
    };

    assert_eq!(
        names(&dir, &idx.search(&q).unwrap()),
        vec!["Other", "Near Harbor Counsel", "Far Harbor Counsel"]
    );
    let text = idx
        .search(&SearchQuery {
            text: Some("harbor COUNSEL".into()),
            ..q.clone()
        })
        .unwrap();
    assert_eq!(
        names(&dir, &text),
        vec!["Near Harbor Counsel", "Far Harbor Counsel"]
    );
    assert!(
        idx.search(&SearchQuery {
            text: Some("nothing-like-this".into()),
            ..q
        })
        .unwrap()
        .is_empty()
    );
}

#[test]
fn the_index_follows_updates_and_removals() {
    let mut dir = Directory::default();
    let (svc, loc) = add(
        &mut dir,
        1,
        &Spec {
            name: "Beacon Legal",
            ..Spec::default()
        },
    );
    let mut idx = SearchIndex::build(&dir);
    let beacon = SearchQuery {
        text: Some("beacon".into()),
        ..Default::default()
    };
    assert_eq!(idx.search(&beacon).unwrap().len(), 1);

    dir.service.get_mut(&svc).unwrap().name = Some("Lighthouse Legal".into());
    idx.refresh_service(&dir, &svc);
    let after = idx.search(&beacon).unwrap();
    assert!(after.is_empty(), "{after:?} {:?}", dir.service[&svc]);
    assert_eq!(
        idx.search(&SearchQuery {
            text: Some("lighthouse".into()),
            ..Default::default()
        })
        .unwrap()
        .len(),
        1
    );

    let near_houston = SearchQuery {
        near: Some(Near::City {
            city: "Houston, TX".into(),
        }),
        radius_km: Some(30.0),
        ..Default::default()
    };
    assert!(idx.search(&near_houston).unwrap().is_empty());
    let l = dir.location.get_mut(&loc).unwrap();
    (l.latitude, l.longitude) = (Some(29.76), Some(-95.37));
    idx.refresh_location(&dir, &loc);
    assert_eq!(idx.search(&near_houston).unwrap().len(), 1);

    dir.service.remove(&svc);
    idx.refresh_service(&dir, &svc);
    assert!(idx.is_empty());
}

#[test]
fn bad_places_and_radii_are_refused_with_the_field_named() {
    let idx = SearchIndex::default();
    let err = idx
        .search(&SearchQuery {
            near: Some(Near::Zip {
                zip: "00000".into(),
            }),
            ..Default::default()
        })
        .unwrap_err();
    assert!(err.to_string().starts_with("near.zip"));
    assert_eq!(
        idx.search(&SearchQuery {
            radius_km: Some(-1.0),
            ..Default::default()
        })
        .unwrap_err(),
        SearchError::BadRadius
    );
    assert!(matches!(
        idx.search(&SearchQuery {
            near: Some(Near::City {
                city: "Nowhere".into()
            }),
            ..Default::default()
        }),
        Err(SearchError::UnknownCity(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn grid_search_returns_exactly_what_a_brute_force_scan_returns(
        lat in 30.0f64..45.0, lng in -120.0f64..-75.0, radius in 10.0f64..400.0, t in 0usize..24, p in 0usize..12,
    ) {
        let (dir, idx) = demo();
        let ty = ServiceType::ALL[t];
        let pop = Population::ALL[p];
        let q = SearchQuery { near: Some(Near::Point { lat, lng }), radius_km: Some(radius), service_types: vec![ty], populations: vec![pop], exclude_area_services: true, limit: Some(100_000), ..Default::default() };
        let mut got: Vec<String> = idx.search(&q).unwrap().into_iter().filter_map(|h| h.service_at_location_id).collect();
        got.sort();
        let classes = classify(dir);
        let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
        let mut want: Vec<String> = dir.service_at_location.values().filter(|sal| {
            let svc = sal.service_id.as_ref().unwrap();
            let loc = &dir.location[sal.location_id.as_ref().unwrap()];
            let (types, pops) = classes.get(svc).cloned().unwrap_or_default();
            let org = &dir.organization[dir.service[svc].organization_id.as_ref().unwrap()];
            let vetted = org.lantern.as_ref().and_then(|e| e.vetting.as_ref()).is_some_and(|v| v.is_vetted_on(today));
            types.contains(&ty) && pops.contains(&pop)
                && (vetted || !types.iter().any(|t| t.is_law_enforcement()))
                && haversine_km((lat, lng), (loc.latitude.unwrap(), loc.longitude.unwrap())) <= radius
        }).map(|s| s.id.clone()).collect();
        want.sort();
        prop_assert_eq!(got, want);
    }
}

fn demo() -> &'static (Directory, SearchIndex) {
    use std::sync::OnceLock;
    static D: OnceLock<(Directory, SearchIndex)> = OnceLock::new();
    D.get_or_init(|| {
        let dir = generate(11, 3000);
        let idx = SearchIndex::build(&dir);
        (dir, idx)
    })
}
