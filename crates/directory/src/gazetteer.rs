//! ZIP code gazetteer: ZIP → coordinates, city, state, county and IANA time zone, from the `zipcodes`
//! data set (MIT; see `data/gazetteer/SOURCE.md`), embedded at build time and parsed once on first use.
//! Nothing is geocoded online.

use flate2::read::GzDecoder;
use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

static DATA: &[u8] = include_bytes!("../../../data/gazetteer/zips.tsv.gz");

/// One ZIP code.
#[derive(Debug, Clone, PartialEq)]
pub struct ZipPlace {
    /// The five-digit ZIP code.
    pub zip: String,
    /// Latitude (degrees).
    pub lat: f64,
    /// Longitude (degrees).
    pub lng: f64,
    /// The USPS city name.
    pub city: String,
    /// The two-letter state code.
    pub state: String,
    /// The county (`Cook County`), empty when unknown.
    pub county: String,
    /// The IANA time zone, empty when unknown.
    pub time_zone: String,
}

/// A place found from a "city, ST" query: the mean point of its ZIP codes.
#[derive(Debug, Clone, PartialEq)]
pub struct CityPlace {
    /// Latitude (degrees).
    pub lat: f64,
    /// Longitude (degrees).
    pub lng: f64,
    /// The city as the data spells it.
    pub city: String,
    /// The two-letter state code.
    pub state: String,
    /// Its ZIP codes.
    pub zips: Vec<String>,
}

/// The loaded gazetteer.
#[derive(Debug)]
pub struct Gazetteer {
    places: Vec<ZipPlace>,
    by_zip: HashMap<String, usize>,
    by_city: HashMap<String, Vec<usize>>,
    /// The places of each state that name a county, built on first use.
    by_state: OnceLock<HashMap<String, Vec<usize>>>,
}

fn city_key(city: &str, state: &str) -> String {
    let city: String = city
        .chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    format!("{city}|{}", state.trim().to_uppercase())
}

impl Gazetteer {
    /// The embedded gazetteer, parsed on first use.
    pub fn get() -> &'static Gazetteer {
        static G: OnceLock<Gazetteer> = OnceLock::new();
        G.get_or_init(|| {
            let mut text = String::new();
            GzDecoder::new(DATA)
                .read_to_string(&mut text)
                .expect("the embedded gazetteer is valid gzip text");
            Gazetteer::parse(&text)
        })
    }

    /// Parses the tab-separated file (header, then zip, lat, lng, city, state, county, timezone).
    /// Lines that do not parse are skipped.
    pub fn parse(text: &str) -> Gazetteer {
        let mut g = Gazetteer {
            places: Vec::new(),
            by_zip: HashMap::new(),
            by_city: HashMap::new(),
            by_state: OnceLock::new(),
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split('\t').collect();
            let [zip, lat, lng, city, state, county, tz] = f[..] else {
                continue;
            };
            let (Ok(lat), Ok(lng)) = (lat.parse(), lng.parse()) else {
                continue;
            };
            let i = g.places.len();
            g.by_zip.insert(zip.to_owned(), i);
            g.by_city.entry(city_key(city, state)).or_default().push(i);
            g.places.push(ZipPlace {
                zip: zip.into(),
                lat,
                lng,
                city: city.into(),
                state: state.into(),
                county: county.into(),
                time_zone: tz.into(),
            });
        }
        g
    }

    /// The place of a ZIP code (the first five digits of a ZIP+4 are used).
    pub fn zip(&self, zip: &str) -> Option<&ZipPlace> {
        let z = zip.trim().get(..5)?;
        self.by_zip.get(z).map(|&i| &self.places[i])
    }

    /// A city by "City, ST" (case, punctuation and spacing are ignored).
    pub fn city(&self, query: &str) -> Option<CityPlace> {
        let (city, state) = query.rsplit_once(',')?;
        self.city_state(city, state)
    }

    /// A city by name and two-letter state.
    pub fn city_state(&self, city: &str, state: &str) -> Option<CityPlace> {
        let idx = self.by_city.get(&city_key(city, state))?;
        let n = idx.len() as f64;
        let (lat, lng) = idx.iter().fold((0.0, 0.0), |(a, b), &i| {
            (a + self.places[i].lat, b + self.places[i].lng)
        });
        let first = &self.places[idx[0]];
        Some(CityPlace {
            lat: lat / n,
            lng: lng / n,
            city: first.city.clone(),
            state: first.state.clone(),
            zips: idx.iter().map(|&i| self.places[i].zip.clone()).collect(),
        })
    }

    /// Every ZIP place, sorted by ZIP.
    pub fn places(&self) -> &[ZipPlace] {
        &self.places
    }

    /// A place of `state` that names its county, picked by `key` (the same key, the same place): for
    /// synthetic data to put a made-up case in a real county and ZIP code of its state.
    pub fn place_in_state(&self, state: &str, key: u128) -> Option<&ZipPlace> {
        let by_state = self.by_state.get_or_init(|| {
            let mut m: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, z) in self.places.iter().enumerate() {
                if !z.county.is_empty() {
                    m.entry(z.state.clone()).or_default().push(i);
                }
            }
            m
        });
        let v = by_state.get(state)?;
        Some(&self.places[v[(key % v.len() as u128) as usize]])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("10001", "New York", "NY", "New York County", "America/New_York")]
    #[case("60601", "Chicago", "IL", "Cook County", "America/Chicago")]
    #[case(
        "94103-1234",
        "San Francisco",
        "CA",
        "San Francisco County",
        "America/Los_Angeles"
    )]
    #[case("96813", "Honolulu", "HI", "Honolulu County", "Pacific/Honolulu")]
    fn a_zip_gives_its_city_state_county_and_zone(
        #[case] zip: &str,
        #[case] city: &str,
        #[case] state: &str,
        #[case] county: &str,
        #[case] tz: &str,
    ) {
        let p = Gazetteer::get().zip(zip).expect("known zip");
        assert_eq!(
            (
                p.city.as_str(),
                p.state.as_str(),
                p.county.as_str(),
                p.time_zone.as_str()
            ),
            (city, state, county, tz)
        );
        assert!(p.lat > 18.0 && p.lat < 72.0 && p.lng < -60.0);
    }

    #[test]
    fn a_place_in_a_state_is_one_of_its_own_with_a_county_and_the_same_for_the_same_key() {
        let g = Gazetteer::get();
        let a = g.place_in_state("TX", 12_345).expect("Texas has places");
        assert_eq!(a.state, "TX");
        assert!(!a.county.is_empty());
        assert_eq!(g.place_in_state("TX", 12_345).map(|p| &p.zip), Some(&a.zip));
        assert!(g.place_in_state("ZZ", 1).is_none());
    }

    #[test]
    fn a_city_and_state_give_a_point_near_the_city() {
        let p = Gazetteer::get().city("  houston ,  tx").expect("Houston");
        assert!(
            (p.lat - 29.76).abs() < 0.5 && (p.lng + 95.37).abs() < 0.5,
            "{p:?}"
        );
        assert!(p.zips.len() > 50);
        assert!(Gazetteer::get().city("Houston, ZZ").is_none());
        assert!(Gazetteer::get().zip("00000").is_none());
    }

    #[test]
    fn the_whole_country_is_loaded() {
        assert!(Gazetteer::get().places().len() > 40_000);
    }
}
