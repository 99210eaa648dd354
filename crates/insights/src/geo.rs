//! US state geometry and populations shipped with Lantern (see `data/geo/SOURCE.md` and
//! `data/census/SOURCE.md`): SVG paths of every state, DC and Puerto Rico in a 975 × 610 Albers USA
//! layout, and 2020 Census resident populations.

use lantern_domain::codes::UsState;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const SHAPES: &str = include_str!("../../../data/geo/us-states-albers.tsv");
const POPULATION: &str = include_str!("../../../data/census/state-population-2020.tsv");

/// Width of the map's viewport.
pub const MAP_WIDTH: f64 = 975.0;
/// Height of the map's viewport.
pub const MAP_HEIGHT: f64 = 610.0;

/// One state's outline.
#[derive(Debug, Clone, PartialEq)]
pub struct StateShape {
    /// The state.
    pub state: UsState,
    /// Its FIPS code.
    pub fips: &'static str,
    /// Its SVG path (`d` attribute) in the 975 × 610 viewport.
    pub path: &'static str,
}

/// Every state's outline, in USPS code order (52: 50 states, DC, Puerto Rico).
pub fn state_shapes() -> &'static [StateShape] {
    static SHAPES_CELL: OnceLock<Vec<StateShape>> = OnceLock::new();
    SHAPES_CELL.get_or_init(|| {
        SHAPES
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                let mut f = l.splitn(4, '\t');
                let usps = f.next().unwrap_or_default();
                let fips = f.next().unwrap_or_default();
                let _name = f.next();
                let path = f.next().unwrap_or_default();
                StateShape {
                    state: UsState::parse_usps(usps).expect("shipped geometry has USPS codes"),
                    fips,
                    path,
                }
            })
            .collect()
    })
}

/// 2020 Census resident population of every state, DC and Puerto Rico.
pub fn population_2020() -> &'static BTreeMap<UsState, u64> {
    static POP: OnceLock<BTreeMap<UsState, u64>> = OnceLock::new();
    POP.get_or_init(|| {
        POPULATION
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                let (usps, n) = l.split_once('\t').expect("shipped table has two columns");
                (
                    UsState::parse_usps(usps).expect("shipped table has USPS codes"),
                    n.trim().parse().expect("shipped table has counts"),
                )
            })
            .collect()
    })
}

/// `n` per 100,000 residents of `state` (2020 Census).
pub fn per_100k(state: UsState, n: u64) -> f64 {
    let pop = population_2020().get(&state).copied().unwrap_or(0);
    if pop == 0 {
        0.0
    } else {
        n as f64 * 100_000.0 / pop as f64
    }
}

/// Where the population figures come from, for pages and downloads that show rates.
pub const POPULATION_SOURCE: &str = "U.S. Census Bureau, 2020 Census resident population (April 1, 2020; P.L. 94-171 table P1 and apportionment table 2), public domain";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_dc_and_puerto_rico_has_a_shape_inside_the_viewport() {
        let shapes = state_shapes();
        assert_eq!(shapes.len(), UsState::ALL.len());
        for s in shapes {
            assert!(
                s.path.starts_with('M') && s.path.ends_with('Z'),
                "{:?}",
                s.state
            );
            for n in s.path.split(['M', 'L', 'Z', ',']).filter(|x| !x.is_empty()) {
                let v: f64 = n.parse().unwrap();
                assert!((-60.0..=MAP_WIDTH).contains(&v), "{:?}: {v}", s.state);
            }
        }
    }

    #[test]
    fn populations_add_up_to_the_2020_census_total_of_the_states_and_dc() {
        let pop = population_2020();
        assert_eq!(pop.len(), UsState::ALL.len());
        let states_and_dc: u64 = pop
            .iter()
            .filter(|(s, _)| **s != UsState::Pr)
            .map(|(_, n)| n)
            .sum();
        assert_eq!(states_and_dc, 331_449_281);
        assert_eq!(pop[&UsState::Wy], 576_851);
    }
}
