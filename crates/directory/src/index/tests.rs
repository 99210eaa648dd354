use super::ring::Rings;
use super::week::{WeekHours, minute_of_week};
use super::*;
use crate::demo::{DemoRng, generate};
use crate::model::{Language, Schedule};
use proptest::prelude::*;

/// A demo directory made harder for the index: more than 63 languages, hours with monthly rules and
/// validity dates, services re-indexed and removed after the build.
fn awkward_directory() -> (Directory, SearchIndex) {
    let mut dir = generate(11, 4000);
    let services: Vec<String> = dir.service.keys().cloned().collect();
    for (i, s) in services.iter().enumerate().filter(|(i, _)| i % 5 == 0) {
        let id = format!("lang-{i}");
        dir.language.insert(
            id.clone(),
            Language {
                id,
                service_id: Some(s.clone()),
                code: Some(format!("l{}", (i / 5) % 80)),
                ..Default::default()
            },
        );
    }
    for (i, s) in dir.schedule.values_mut().enumerate() {
        match i % 9 {
            0 => s.valid_to = Some("2026-06-30".into()),
            1 => {
                s.freq = Some("MONTHLY".into());
                s.byday = Some("-1FR,2TU".into());
            }
            2 => (s.opens_at, s.closes_at) = (Some("20:00".into()), Some("06:00".into())),
            _ => {}
        }
    }
    let mut idx = SearchIndex::build(&dir);
    for s in services.iter().step_by(101) {
        idx.refresh_service(&dir, s);
    }
    for s in services.iter().skip(3).step_by(37) {
        idx.remove_service(s);
    }
    (dir, idx)
}

fn random_query(
    rng: &mut DemoRng,
    dir: &Directory,
    points: &[(f64, f64)],
    words: &[String],
) -> SearchQuery {
    let pick = |rng: &mut DemoRng, n: usize| rng.below(n);
    let near = match rng.below(10) {
        0 => None,
        1 => dir
            .address
            .values()
            .nth(pick(rng, dir.address.len()))
            .and_then(|a| a.postal_code.clone())
            .map(|zip| Near::Zip { zip }),
        2 => dir
            .address
            .values()
            .nth(pick(rng, dir.address.len()))
            .and_then(|a| {
                Some(format!(
                    "{}, {}",
                    a.city.as_ref()?,
                    a.state_province.as_ref()?
                ))
            })
            .map(|city| Near::City { city }),
        _ => {
            let (lat, lng) = points[pick(rng, points.len())];
            Some(Near::Point {
                lat: lat + (rng.unit() - 0.5) * 0.6,
                lng: lng + (rng.unit() - 0.5) * 0.6,
            })
        }
    };
    let radii = [1.0, 5.0, 20.0, 60.0, 150.0, 400.0, 1500.0, 4999.0];
    let radius = if rng.chance(0.5) {
        radii[pick(rng, radii.len())]
    } else {
        1.0 + rng.unit() * 200.0
    };
    let types = (0..rng.below(3))
        .map(|_| ServiceType::ALL[pick(rng, ServiceType::ALL.len())])
        .collect();
    let pops = (0..rng.below(2))
        .map(|_| Population::ALL[pick(rng, Population::ALL.len())])
        .collect();
    let langs = ["en", "es", "Spanish", "zh", "l5", "l70", "xx"];
    let languages = (0..rng.below(3))
        .map(|_| langs[pick(rng, langs.len())].to_owned())
        .collect();
    let open_at = Timestamp::from_second(1_767_225_600 + rng.below(365 * 86_400) as i64).unwrap();
    let limits = [None, Some(0), Some(1), Some(3), Some(20), Some(500)];
    SearchQuery {
        near,
        radius_km: Some(radius),
        service_types: types,
        all_service_types: rng.chance(0.3),
        populations: pops,
        languages,
        open_at: Some(open_at),
        include_unknown_hours: rng.chance(0.5),
        vetted_only: rng.chance(0.2),
        text: rng
            .chance(0.15)
            .then(|| words[pick(rng, words.len())].clone()),
        exclude_area_services: rng.chance(0.5),
        today: rng
            .chance(0.5)
            .then(|| jiff::civil::date(2026 + rng.below(3) as i16, 1 + rng.below(12) as i8, 1)),
        limit: limits[pick(rng, limits.len())],
    }
}

#[test]
fn nearest_first_gives_exactly_the_results_of_the_exhaustive_search() {
    // Arrange
    let (dir, idx) = awkward_directory();
    let points: Vec<(f64, f64)> = idx
        .entries
        .iter()
        .flatten()
        .filter_map(|e| e.point)
        .collect();
    let mut words: Vec<String> = idx.words.keys().take(40).cloned().collect();
    words.push("hope".into());
    let mut rng = DemoRng::new(3);
    let (mut fast, mut stopped_early) = (0, 0);

    for _ in 0..1500 {
        let q = random_query(&mut rng, &dir, &points, &words);

        // Act
        let ours = idx.search(&q);
        let reference = idx.search_exhaustive(&q);

        // Assert
        assert_eq!(ours, reference, "{q:?}");
        if let Ok(Some(p)) = idx.prepare(&q)
            && p.limit > 0
            && let Some(r) = idx.nearest_first(&q, &p)
        {
            fast += 1;
            stopped_early += usize::from(r.len() == p.limit);
        }
    }
    // The comparison is only worth something if the fast path ran, often to a full page.
    assert!(fast > 600, "nearest first ran {fast} times");
    assert!(stopped_early > 60, "a full page {stopped_early} times");
}

#[test]
fn languages_beyond_the_first_63_are_still_found() {
    // Arrange
    let (_, idx) = awkward_directory();
    assert!(idx.lang_ids.len() > 63);
    let rare = idx
        .lang_ids
        .iter()
        .find(|(_, id)| **id >= 63)
        .unwrap()
        .0
        .clone();
    let e = idx
        .entries
        .iter()
        .flatten()
        .find(|e| e.langs.contains(&rare) && e.point.is_some() && !e.le)
        .unwrap();
    let (lat, lng) = e.point.unwrap();
    let q = SearchQuery {
        near: Some(Near::Point { lat, lng }),
        radius_km: Some(1.0),
        languages: vec![rare.clone()],
        exclude_area_services: true,
        limit: Some(500),
        ..Default::default()
    };

    // Act
    let hits = idx.search(&q).unwrap();

    // Assert
    assert!(hits.iter().any(|h| h.service_at_location_id == e.sal_id));
    assert!(hits.iter().all(|h| h.why.contains(&MatchReason::Language {
        language: rare.clone()
    })));
}

fn weekly(byday: &str, opens: &str, closes: &str) -> Schedule {
    Schedule {
        id: "s".into(),
        freq: Some("WEEKLY".into()),
        byday: (!byday.is_empty()).then(|| byday.into()),
        opens_at: Some(opens.into()),
        closes_at: Some(closes.into()),
        ..Schedule::default()
    }
}

#[test]
fn hours_that_depend_on_the_date_are_not_reduced_to_a_week() {
    let mut dated = weekly("MO", "09:00", "17:00");
    dated.valid_from = Some("2026-01-01".into());
    let monthly = Schedule {
        freq: Some("MONTHLY".into()),
        byday: Some("-1FR".into()),
        ..weekly("", "09:00", "12:00")
    };
    for s in [dated, monthly] {
        let hours = Hours::from_schedules([&s]);
        assert_eq!(WeekHours::of(&hours, &[&s]), None, "{s:?}");
    }
    let always = weekly("", "00:00", "23:59");
    let hours = Hours::from_schedules([&always]);
    assert_eq!(WeekHours::of(&hours, &[&always]), Some(WeekHours::Always));
    assert_eq!(
        WeekHours::of(&Hours::default(), &[]),
        Some(WeekHours::Unknown)
    );
}

const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

fn hhmm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

proptest! {
    #[test]
    fn a_week_of_hours_answers_like_the_rules(
        rules in prop::collection::vec((1u8..128, 0u16..97, 0u16..97), 1..4),
        day in 0i32..730,
        minute in 0u16..1440,
    ) {
        let schedules: Vec<Schedule> = rules
            .iter()
            .map(|&(days, o, c)| {
                let byday: Vec<&str> = (0..7).filter(|i| days & (1 << i) != 0).map(|i| DAYS[i]).collect();
                weekly(&byday.join(","), &hhmm(o * 15), &hhmm(c * 15))
            })
            .collect();
        let refs: Vec<&Schedule> = schedules.iter().collect();
        let hours = Hours::from_schedules(refs.iter().copied());
        let week = WeekHours::of(&hours, &refs).unwrap();
        let date = jiff::civil::date(2026, 1, 1).checked_add(jiff::Span::new().days(day)).unwrap();
        prop_assert_eq!(week.status(minute_of_week(date, minute)), hours.status_local(date, minute));
    }

    #[test]
    fn no_point_of_a_ring_is_nearer_than_its_lower_bound(
        lat in -60.0f64..70.0,
        lng in -170.0f64..170.0,
        r in 1i32..40,
        side in 0usize..4,
        along in 0.0f64..1.0,
        (fi, fj) in (0.0f64..1.0, 0.0f64..1.0),
    ) {
        let center = cell(lat, lng);
        let rings = Rings::around(lat, lng, (center.0 - 50, center.1 - 50), (center.0 + 50, center.1 + 50));
        // A cell of ring r: on one of its four sides, somewhere along it.
        let k = (along * f64::from(2 * r + 1)).floor() as i32 - r;
        let (i, j) = match side {
            0 => (center.0 + r, center.1 + k),
            1 => (center.0 - r, center.1 + k),
            2 => (center.0 + k, center.1 + r),
            _ => (center.0 + k, center.1 - r),
        };
        let point = ((f64::from(i) + fi) * CELL_DEG, (f64::from(j) + fj) * CELL_DEG);
        prop_assert!(haversine_km((lat, lng), point) >= rings.lower_bound(r));
    }
}

#[test]
fn rings_visit_every_cell_of_the_box_once() {
    let (lat, lng) = (40.7, -74.0);
    let center = cell(lat, lng);
    let (lo, hi) = ((center.0 - 3, center.1 - 6), (center.0 + 5, center.1 + 2));
    let rings = Rings::around(lat, lng, lo, hi);
    let mut seen = Vec::new();
    for r in 0..rings.count() {
        rings.cells(r, |c| {
            assert_eq!((c.0 - center.0).abs().max((c.1 - center.1).abs()), r);
            seen.push(c);
        });
    }
    seen.sort_unstable();
    let every: Vec<(i32, i32)> = (lo.0..=hi.0)
        .flat_map(|i| (lo.1..=hi.1).map(move |j| (i, j)))
        .collect();
    assert_eq!(seen, every);
}

proptest! {
    #[test]
    fn a_cell_keeps_each_point_in_its_own_sub_cell_through_inserts_and_removals(
        points in prop::collection::vec((0.0f64..0.25, 0.0f64..0.25), 1..60),
        removed in prop::collection::vec(any::<prop::sample::Index>(), 0..30),
    ) {
        // Arrange: points of cell (160, -296), around New York.
        let ij = (160, -296);
        let (lat0, lng0) = (f64::from(ij.0) * CELL_DEG, f64::from(ij.1) * CELL_DEG);
        let mut c = Cell::default();
        let mut live: Vec<(u32, usize)> = Vec::new();

        // Act
        for (slot, &(a, b)) in points.iter().enumerate() {
            let (lat, lng) = (lat0 + a, lng0 + b);
            prop_assert_eq!(cell(lat, lng), ij);
            let sub = Cell::sub(ij, lat, lng);
            let item = Packed {
                at: Radians::new(lat, lng),
                langs: 0,
                vetted_until: 0,
                slot: slot as u32,
                hours: 0,
                tz: 0,
            };
            c.insert(sub, slot as u64, item);
            live.push((slot as u32, sub));
        }
        for r in &removed {
            if live.is_empty() {
                break;
            }
            let (slot, _) = live.remove(r.index(live.len()));
            c.remove(slot);
        }

        // Assert: the keys and items still pair up, and each lies within its sub-cell's range.
        prop_assert_eq!(c.keys.len(), live.len());
        prop_assert_eq!(c.start[SUBS * SUBS] as usize, live.len());
        for (slot, sub) in live {
            let at = c.items.iter().position(|x| x.slot == slot).unwrap();
            prop_assert_eq!(c.keys[at], u64::from(slot));
            prop_assert!((c.start[sub] as usize..c.start[sub + 1] as usize).contains(&at));
        }
    }
}
