use super::*;
use proptest::prelude::*;
use rstest::rstest;

fn states(n: usize) -> Dimension {
    Dimension::new(
        "state",
        ["TX", "CA", "NY", "FL", "WA", "OH"].into_iter().take(n),
    )
}

fn forms(n: usize) -> Dimension {
    Dimension::new(
        "form",
        ["sex", "labor", "sex_and_labor", "not_specified"]
            .into_iter()
            .take(n),
    )
}

fn assert_safe(release: &Release) {
    let a = attack(release);
    assert!(!a.inconsistent, "published figures contradict each other");
    let breaches = a.breaches(&release.config);
    assert!(breaches.is_empty(), "recovered: {breaches:#?}");
}

#[rstest]
#[case::small_cell_with_a_big_neighbour(vec![2, 5, 7], 3)]
#[case::small_cell_next_to_one_just_at_threshold(vec![1, 3], 3)]
#[case::two_small_cells(vec![1, 2, 40], 3)]
#[case::ctdc_threshold(vec![4, 12, 30, 0, 10], 11)]
#[case::everything_large(vec![12, 30], 3)]
fn a_one_way_table_hides_its_small_counts_from_the_total(
    #[case] counts: Vec<u64>,
    #[case] threshold: u64,
) {
    let config = GateConfig::with_threshold(threshold).unwrap();
    let n = counts.len();
    let t = Table::one_way("t", "cases", states(n), counts.clone());
    let r = publish(&[t], &config).unwrap();
    for (i, &v) in counts.iter().enumerate() {
        let cell = r.tables[0].cells[i][0];
        if config.is_small(v) {
            assert_eq!(cell, Cell::FewerThan(threshold));
        } else if let Cell::Value(p) = cell {
            assert_eq!(p, v);
        }
    }
    assert_safe(&r);
}

#[test]
fn zeros_are_published_as_zero_by_default_and_hidden_when_asked() {
    let t = Table::one_way("t", "cases", states(3), vec![0, 5, 9]);
    let r = publish(std::slice::from_ref(&t), &GateConfig::default()).unwrap();
    assert_eq!(r.tables[0].cells[0][0], Cell::Value(0));
    let config = GateConfig {
        zeros: ZeroRule::Suppress,
        ..GateConfig::default()
    };
    let r = publish(&[t], &config).unwrap();
    assert_eq!(r.tables[0].cells[0][0], Cell::FewerThan(3));
    assert_safe(&r);
}

#[test]
fn primary_suppression_alone_is_broken_by_the_attacker() {
    // The attacker must be able to succeed: publish a small cell hidden but everything else exact.
    let config = GateConfig::default();
    let naive = Release {
        config,
        tables: vec![PublishedTable {
            id: "t".into(),
            universe: "cases".into(),
            rows: states(3),
            cols: None,
            cells: vec![
                vec![Cell::FewerThan(3)],
                vec![Cell::Value(5)],
                vec![Cell::Value(9)],
            ],
            row_totals: vec![],
            col_totals: vec![],
            total: Cell::Value(16),
        }],
    };
    let a = attack(&naive);
    let b = a.breaches(&config);
    assert_eq!(b.len(), 1);
    assert_eq!((b[0].lo, b[0].hi), (2.0, Some(2.0)));
}

#[test]
fn a_cross_tab_hides_small_cells_from_row_column_and_grand_totals() {
    let t = Table::two_way(
        "state_by_form",
        "cases",
        states(3),
        forms(3),
        vec![vec![1, 10, 4], vec![6, 2, 9], vec![15, 8, 7]],
    );
    let r = publish(&[t], &GateConfig::default()).unwrap();
    let p = &r.tables[0];
    assert_eq!(p.cells[0][0], Cell::FewerThan(3));
    assert_eq!(p.cells[1][1], Cell::FewerThan(3));
    assert_eq!(p.total, Cell::Value(62));
    let hidden = p
        .cells
        .iter()
        .flatten()
        .filter(|c| c.value().is_none())
        .count();
    assert!(hidden >= 4, "complementary cells: {p:?}");
    assert_safe(&r);
}

#[test]
fn tables_of_one_release_cannot_be_played_against_each_other() {
    // The one-way table by state is the row margin of both cross-tabs; TX's two small cells in the
    // two tables must stay hidden even though each table alone would look safe.
    let by_form = Table::two_way(
        "by_form",
        "cases",
        states(3),
        forms(2),
        vec![vec![2, 20], vec![9, 11], vec![30, 4]],
    );
    let by_channel = Table::two_way(
        "by_channel",
        "cases",
        states(3),
        Dimension::new("channel", ["phone", "sms"]),
        vec![vec![21, 1], vec![10, 10], vec![17, 17]],
    );
    let by_state = Table::one_way("by_state", "cases", states(3), vec![22, 20, 34]);
    let r = publish(&[by_form, by_channel, by_state], &GateConfig::default()).unwrap();
    assert_safe(&r);
    // The shared margins are shown the same way in every table.
    assert_eq!(r.tables[0].row_totals, r.tables[1].row_totals);
    let one_way: Vec<Cell> = r.tables[2].cells.iter().map(|c| c[0]).collect();
    assert_eq!(r.tables[0].row_totals, one_way);
}

#[rstest]
#[case::threshold_too_low(Table::one_way("t", "u", states(2), vec![1, 2]), 1, "threshold 1 is too low")]
#[case::rows_do_not_match_labels(Table::one_way("t", "u", states(3), vec![1, 2]), 3, "table `t`: 2 rows of counts for 3 row labels")]
fn bad_input_is_refused_with_a_message_naming_it(
    #[case] t: Table,
    #[case] threshold: u64,
    #[case] message: &str,
) {
    let config = GateConfig {
        threshold,
        zeros: ZeroRule::Publish,
    };
    let err = publish(&[t], &config).unwrap_err();
    assert!(err.to_string().starts_with(message), "{err}");
}

#[test]
fn tables_that_disagree_on_a_shared_total_are_refused() {
    let a = Table::one_way("a", "cases", states(2), vec![5, 6]);
    let b = Table::one_way("b", "cases", forms(2), vec![5, 7]);
    let err = publish(&[a, b], &GateConfig::default()).unwrap_err();
    assert!(matches!(err, GateError::InconsistentTotals { ref figure, .. } if figure == "total"));
}

#[test]
fn a_table_of_only_small_counts_falls_back_to_hiding_zeros_too() {
    // Two 1s and a total of 2: with zeros published, "fewer than 3" everywhere would still tell that
    // both are exactly 1; the gate hides zeros as well, so "fewer than 3" means 0 to 2.
    let t = Table::one_way("t", "cases", states(3), vec![1, 1, 0]);
    let r = publish(&[t], &GateConfig::default()).unwrap();
    assert_eq!(r.config.zeros, ZeroRule::Suppress);
    assert_eq!(r.tables[0].cells[2][0], Cell::FewerThan(3));
    assert_safe(&r);
}

fn small_skewed() -> impl Strategy<Value = u64> {
    prop_oneof![3 => 0u64..3, 2 => 3u64..8, 2 => 8u64..40]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn no_published_release_lets_the_attacker_narrow_a_small_count(
        r in 2usize..6,
        c in 2usize..5,
        c2 in 2usize..4,
        seed_cells in prop::collection::vec(small_skewed(), 36),
        seed_cells2 in prop::collection::vec(small_skewed(), 36),
        threshold in prop_oneof![Just(3u64), Just(5u64), Just(11u64)],
        suppress_zeros in any::<bool>(),
    ) {
        let config = GateConfig {
            threshold,
            zeros: if suppress_zeros { ZeroRule::Suppress } else { ZeroRule::Publish },
        };
        let cells: Vec<Vec<u64>> = (0..r).map(|i| seed_cells[i * 6..i * 6 + c].to_vec()).collect();
        let row_sums: Vec<u64> = cells.iter().map(|row| row.iter().sum()).collect();
        // A second cross-tab over the same states with the same row sums, split differently.
        let cells2: Vec<Vec<u64>> = row_sums
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let mut row = vec![0u64; c2];
                let mut left = s;
                for (j, slot) in row.iter_mut().enumerate().take(c2 - 1) {
                    let take = seed_cells2[i * 6 + j].min(left);
                    *slot = take;
                    left -= take;
                }
                row[c2 - 1] = left;
                row
            })
            .collect();
        let tables = vec![
            Table::two_way("a", "cases", states(r), forms(c), cells.clone()),
            Table::two_way("b", "cases", states(r), Dimension::new("channel", ["phone", "sms", "webchat"].into_iter().take(c2)), cells2),
            Table::one_way("s", "cases", states(r), row_sums),
        ];
        match publish(&tables, &config) {
            Ok(release) => {
                let config = release.config;
                let a = attack(&release);
                prop_assert!(!a.inconsistent);
                let breaches = a.breaches(&config);
                prop_assert!(breaches.is_empty(), "recovered: {:?}", breaches);
                for (ti, t) in tables.iter().enumerate() {
                    for (i, row) in t.cells.iter().enumerate() {
                        for (j, &v) in row.iter().enumerate() {
                            let shown = release.tables[ti].cells[i][j];
                            match shown {
                                Cell::Value(p) => prop_assert_eq!(p, v),
                                Cell::FewerThan(n) => prop_assert!(config.is_small(v) && n == threshold, "{} shown as fewer than {}", v, n),
                                Cell::Withheld => prop_assert!(v >= threshold),
                            }
                            if config.is_small(v) {
                                prop_assert_eq!(shown, Cell::FewerThan(threshold));
                            }
                        }
                    }
                }
            }
            Err(e) => prop_assert!(false, "refused: {}", e),
        }
    }
}
