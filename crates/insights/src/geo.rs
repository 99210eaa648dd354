//! US geometry and populations shipped with Lantern (see `data/geo/SOURCE.md` and
//! `data/census/SOURCE.md`): SVG paths of every state, DC and Puerto Rico in a 975 × 610 Albers USA
//! layout and 2020 Census resident populations; and the counties of the 50 states and DC, with the
//! Census Bureau's Vintage 2019 population estimates and their outlines in the same layout.

use lantern_domain::case::county_name;
use lantern_domain::codes::UsState;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

const SHAPES: &str = include_str!("../../../data/geo/us-states-albers.tsv");
const POPULATION: &str = include_str!("../../../data/census/state-population-2020.tsv");
const COUNTY_POPULATION: &str = include_str!("../../../data/census/county-population.tsv");
const COUNTY_SHAPES: &str = include_str!("../../../data/geo/us-counties-albers.tsv");

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

/// Where the state population figures come from, for pages and downloads that show state rates.
pub const POPULATION_SOURCE: &str = "U.S. Census Bureau, 2020 Census resident population (April 1, 2020; P.L. 94-171 table P1 and apportionment table 2), public domain";

/// Where the county population figures come from.
pub const COUNTY_POPULATION_SOURCE: &str = "U.S. Census Bureau, county population estimates, Vintage 2019 (July 1, 2019; co-est2019-alldata), public domain; not 2020 Census counts; no Puerto Rico municipios";

/// Both sources, for pages and downloads that show state and county rates side by side.
pub const STATE_AND_COUNTY_POPULATION_SOURCE: &str = "States: U.S. Census Bureau, 2020 Census resident population (April 1, 2020; P.L. 94-171 table P1 and apportionment table 2). Counties: U.S. Census Bureau, county population estimates, Vintage 2019 (July 1, 2019; co-est2019-alldata), not 2020 Census counts; none for Puerto Rico. Public domain";

/// One county or county equivalent (parish, borough, census area, municipality, independent city).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct County {
    /// Its five-digit FIPS code (state and county).
    pub fips: &'static str,
    /// Its state.
    pub state: UsState,
    /// The Census Bureau's name, with its kind: "Autauga County", "Baltimore city", "Orleans Parish".
    pub name: &'static str,
    /// Estimated resident population on July 1, 2019.
    pub population: u64,
}

/// Every county of the 50 states and DC (3,142), in FIPS order.
pub fn counties() -> &'static [County] {
    static CELL: OnceLock<Vec<County>> = OnceLock::new();
    CELL.get_or_init(|| {
        rows(COUNTY_POPULATION)
            .map(|l| {
                let f: Vec<&'static str> = l.split('\t').collect();
                County {
                    fips: f[0],
                    state: UsState::parse_usps(f[1]).expect("shipped table has USPS codes"),
                    name: f[2],
                    population: f[3].parse().expect("shipped table has counts"),
                }
            })
            .collect()
    })
}

/// The counties of one state, in FIPS order (none for Puerto Rico).
pub fn counties_of(state: UsState) -> impl Iterator<Item = &'static County> {
    counties().iter().filter(move |c| c.state == state)
}

/// The lines of a shipped table, without its comment header.
fn rows(table: &'static str) -> impl Iterator<Item = &'static str> {
    table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
}

/// A name reduced for matching: lowercase letters and digits only, common accents folded, so
/// "St. Mary's County", "St Marys County" and "ST MARYS COUNTY" match, as do "Doña Ana" and
/// "Dona Ana", "LaPorte" and "La Porte".
fn match_key(name: &str) -> String {
    name.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            c => c,
        })
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// The county of `state` that a case or the gazetteer calls `name`. Names are normalised the way
/// cases store them ([`lantern_domain::case::county_name`]: " County" added when the name has no
/// kind of its own) and compared ignoring case, punctuation, spaces and accents; a name that still
/// does not match is tried as given ("District of Columbia") and with " County" after its kind
/// ("James City" is James City County).
pub fn county(state: UsState, name: &str) -> Option<&'static County> {
    static INDEX: OnceLock<HashMap<(UsState, String), usize>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        counties()
            .iter()
            .enumerate()
            .map(|(i, c)| ((c.state, match_key(c.name)), i))
            .collect()
    });
    let normalised = county_name(name)?;
    [
        match_key(&normalised),
        match_key(name),
        format!("{}county", match_key(name)),
    ]
    .into_iter()
    .find_map(|k| index.get(&(state, k)))
    .map(|i| &counties()[*i])
}

/// Estimated resident population (July 1, 2019) of the county of `state` named `name`, matched as
/// [`county`] does; `None` for a name that is no county of the state (and for Puerto Rico).
pub fn county_population(state: UsState, name: &str) -> Option<u64> {
    county(state, name).map(|c| c.population)
}

/// A rectangle in the map's viewport.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// Left edge.
    pub min_x: f64,
    /// Top edge.
    pub min_y: f64,
    /// Right edge.
    pub max_x: f64,
    /// Bottom edge.
    pub max_y: f64,
}

impl Bounds {
    fn of_path(path: &str) -> Bounds {
        let mut b = Bounds {
            min_x: f64::INFINITY,
            min_y: f64::INFINITY,
            max_x: f64::NEG_INFINITY,
            max_y: f64::NEG_INFINITY,
        };
        for point in path.split(['M', 'L', 'Z']).filter(|p| !p.is_empty()) {
            let (x, y) = point
                .split_once(',')
                .expect("shipped paths have x,y points");
            let (x, y): (f64, f64) = (
                x.parse().expect("shipped paths have numbers"),
                y.parse().expect("shipped paths have numbers"),
            );
            b = b.union(Bounds {
                min_x: x,
                min_y: y,
                max_x: x,
                max_y: y,
            });
        }
        b
    }

    fn union(self, o: Bounds) -> Bounds {
        Bounds {
            min_x: self.min_x.min(o.min_x),
            min_y: self.min_y.min(o.min_y),
            max_x: self.max_x.max(o.max_x),
            max_y: self.max_y.max(o.max_y),
        }
    }

    /// Its width.
    pub fn width(&self) -> f64 {
        self.max_x - self.min_x
    }

    /// Its height.
    pub fn height(&self) -> f64 {
        self.max_y - self.min_y
    }
}

/// One county's outline.
#[derive(Debug, Clone, PartialEq)]
pub struct CountyShape {
    /// The county (name and population from the Census file).
    pub county: &'static County,
    /// Its SVG path (`d` attribute) in the 975 × 610 viewport of [`state_shapes`].
    pub path: &'static str,
    /// The path's bounding box.
    pub bounds: Bounds,
}

/// One state's county outlines and their joint bounding box.
#[derive(Debug, Clone, PartialEq)]
pub struct StateCounties {
    /// The outlines, in FIPS order.
    pub shapes: Vec<CountyShape>,
    /// The box around all of them: what a map of the state's counties shows.
    pub bounds: Bounds,
}

/// The county outlines of `state`, or `None` when Lantern ships none (Puerto Rico). Three Virginia
/// cities too small to have an area at this scale have no outline (see `data/geo/SOURCE.md`).
pub fn county_shapes(state: UsState) -> Option<&'static StateCounties> {
    static CELL: OnceLock<HashMap<UsState, StateCounties>> = OnceLock::new();
    CELL.get_or_init(|| {
        let by_fips: HashMap<&str, &'static County> =
            counties().iter().map(|c| (c.fips, c)).collect();
        let mut out: HashMap<UsState, StateCounties> = HashMap::new();
        for l in rows(COUNTY_SHAPES) {
            let mut f = l.splitn(3, '\t');
            let fips = f.next().unwrap_or_default();
            let _usps = f.next();
            let path = f.next().unwrap_or_default();
            let county = by_fips[fips];
            let bounds = Bounds::of_path(path);
            let entry = out.entry(county.state).or_insert(StateCounties {
                shapes: Vec::new(),
                bounds,
            });
            entry.bounds = entry.bounds.union(bounds);
            entry.shapes.push(CountyShape {
                county,
                path,
                bounds,
            });
        }
        out
    })
    .get(&state)
}

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

    /// The Census file's own state rows (SUMLEV 040, Vintage 2019), which `prepare-counties.sh`
    /// checked the counties against before dropping them; a few are written out here.
    #[test]
    fn the_counties_of_each_state_add_up_to_the_census_files_state_total() {
        let mut sums: BTreeMap<UsState, u64> = BTreeMap::new();
        for c in counties() {
            assert_eq!(c.fips.len(), 5, "{}", c.name);
            *sums.entry(c.state).or_default() += c.population;
        }
        assert_eq!(counties().len(), 3_142);
        assert_eq!(sums.len(), 51);
        assert!(!sums.contains_key(&UsState::Pr));
        assert_eq!(sums[&UsState::Al], 4_903_185);
        assert_eq!(sums[&UsState::Ca], 39_512_223);
        assert_eq!(sums[&UsState::Dc], 705_749);
        assert_eq!(sums[&UsState::Wy], 578_759);
        assert_eq!(sums.values().sum::<u64>(), 328_239_523);
    }

    #[test]
    fn known_counties_have_their_census_names_and_populations() {
        let autauga = county(UsState::Al, "Autauga").unwrap();
        assert_eq!(
            (autauga.fips, autauga.name, autauga.population),
            ("01001", "Autauga County", 55_869)
        );
        let known = [
            (UsState::Md, "Baltimore city", 593_490),
            (UsState::Md, "Baltimore", 827_370),
            (UsState::Ca, "los angeles county", 10_039_107),
            (UsState::La, "Orleans Parish", 390_144),
            (UsState::Nm, "Dona Ana County", 218_195),
            (UsState::Md, "St Mary's County", 113_510),
            (UsState::Va, "James City", 76_523),
            (UsState::Dc, "District of Columbia", 705_749),
            (UsState::Ny, "Suffolk County", 1_476_601),
        ];
        for (state, name, people) in known {
            assert_eq!(county_population(state, name), Some(people), "{name}");
        }
        assert_eq!(county_population(UsState::Tx, "Suffolk County"), None);
        assert_eq!(county_population(UsState::Pr, "San Juan"), None);
        assert_eq!(county_population(UsState::Tx, " "), None);
    }

    #[test]
    fn every_county_but_three_tiny_virginia_cities_has_an_outline_inside_the_viewport() {
        let mut drawn = 0;
        for &s in UsState::ALL {
            let Some(sc) = county_shapes(s) else {
                assert_eq!(s, UsState::Pr);
                continue;
            };
            for c in &sc.shapes {
                assert_eq!(c.county.state, s);
                assert!(c.path.starts_with('M') && c.path.ends_with('Z'));
                let b = c.bounds;
                assert!(b.width() > 0.0 && b.height() > 0.0, "{}", c.county.name);
                assert!(b.min_x >= sc.bounds.min_x && b.max_y <= sc.bounds.max_y);
                assert!(b.min_x >= -60.0 && b.max_x <= MAP_WIDTH && b.max_y <= MAP_HEIGHT);
            }
            drawn += sc.shapes.len();
        }
        assert_eq!(drawn, 3_142 - 3);
        let va = county_shapes(UsState::Va).unwrap();
        assert!(va.shapes.iter().all(|c| c.county.fips != "51610"));
        let ri = county_shapes(UsState::Ri).unwrap();
        assert_eq!(ri.shapes.len(), 5);
        assert!(ri.bounds.width() < 30.0, "{:?}", ri.bounds);
    }
}
