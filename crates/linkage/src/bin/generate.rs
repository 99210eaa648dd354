//! Deterministic generator of person records with known duplicates, for linkage benchmarks.
//!
//! `lantern-linkage-generate --records 1000000 --seed 7 --output people.csv` writes
//! `rec_id,first_name,surname,dob,phone,address,city,postcode,cluster` where `cluster` is the true
//! entity. Duplicates carry typos, swapped names, missing values, nicknames, reformatted phones and
//! addresses. The same seed always gives the same file.

use std::io::{BufWriter, Write};

const FIRST: &[&str] = &[
    "james",
    "mary",
    "john",
    "patricia",
    "robert",
    "jennifer",
    "michael",
    "linda",
    "william",
    "elizabeth",
    "david",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "charles",
    "karen",
    "christopher",
    "nancy",
    "daniel",
    "lisa",
    "matthew",
    "betty",
    "anthony",
    "margaret",
    "mark",
    "sandra",
    "donald",
    "ashley",
    "steven",
    "kimberly",
    "paul",
    "emily",
    "andrew",
    "donna",
    "joshua",
    "michelle",
    "kenneth",
    "dorothy",
    "kevin",
    "carol",
    "brian",
    "amanda",
    "george",
    "melissa",
    "edward",
    "deborah",
    "ronald",
    "stephanie",
    "timothy",
    "rebecca",
    "jason",
    "sharon",
    "jeffrey",
    "laura",
    "ryan",
    "cynthia",
    "jacob",
    "kathleen",
    "gary",
    "amy",
    "nicholas",
    "shirley",
    "eric",
    "angela",
    "jonathan",
    "helen",
    "stephen",
    "anna",
    "larry",
    "brenda",
    "justin",
    "pamela",
    "scott",
    "nicole",
    "brandon",
    "emma",
    "benjamin",
    "samantha",
    "samuel",
    "katherine",
    "gregory",
    "christine",
    "frank",
    "debra",
    "alexander",
    "rachel",
    "raymond",
    "catherine",
    "patrick",
    "carolyn",
    "jack",
    "janet",
    "dennis",
    "ruth",
    "jerry",
    "maria",
    "tyler",
    "heather",
    "aaron",
    "diane",
    "jose",
    "virginia",
    "adam",
    "julie",
    "nathan",
    "joyce",
    "henry",
    "victoria",
    "douglas",
    "olivia",
    "zachary",
    "kelly",
    "peter",
    "christina",
    "kyle",
    "lauren",
    "ethan",
    "joan",
    "walter",
    "evelyn",
    "noah",
    "judith",
    "jeremy",
    "megan",
    "christian",
    "cheryl",
    "keith",
    "andrea",
    "roger",
    "hannah",
    "terry",
    "martha",
    "gerald",
    "jacqueline",
    "harold",
    "frances",
    "sean",
    "gloria",
    "austin",
    "ann",
    "carl",
    "teresa",
    "arthur",
    "kathryn",
    "lawrence",
    "sara",
    "dylan",
    "janice",
    "jesse",
    "jean",
    "jordan",
    "alice",
    "bryan",
    "madison",
    "billy",
    "doris",
    "joe",
    "abigail",
    "bruce",
    "julia",
    "gabriel",
    "judy",
    "logan",
    "grace",
    "albert",
    "denise",
    "willie",
    "amber",
    "alan",
    "marilyn",
    "juan",
    "beverly",
    "wayne",
    "danielle",
    "elijah",
    "theresa",
    "randy",
    "sophia",
    "roy",
    "marie",
    "vincent",
    "diana",
    "ralph",
    "brittany",
    "eugene",
    "natalie",
    "russell",
    "isabella",
    "bobby",
    "charlotte",
    "mason",
    "rose",
    "philip",
    "alexis",
    "louis",
    "kayla",
    "ana",
    "mei",
    "wei",
    "li",
    "fatima",
    "aisha",
    "mohamed",
    "ahmed",
    "olga",
    "irina",
    "svetlana",
    "natasha",
    "anh",
    "thuy",
    "linh",
    "minh",
];

const NICK: &[(&str, &str)] = &[
    ("william", "bill"),
    ("robert", "bob"),
    ("richard", "dick"),
    ("james", "jim"),
    ("john", "jack"),
    ("michael", "mike"),
    ("elizabeth", "liz"),
    ("margaret", "peggy"),
    ("katherine", "kate"),
    ("jennifer", "jen"),
    ("joseph", "joe"),
    ("thomas", "tom"),
    ("charles", "charlie"),
    ("christopher", "chris"),
    ("daniel", "dan"),
    ("matthew", "matt"),
    ("anthony", "tony"),
    ("steven", "steve"),
    ("andrew", "andy"),
    ("edward", "ed"),
    ("patricia", "pat"),
    ("susan", "sue"),
    ("deborah", "deb"),
    ("rebecca", "becky"),
    ("samantha", "sam"),
    ("alexander", "alex"),
    ("nicholas", "nick"),
    ("jonathan", "jon"),
    ("victoria", "vicky"),
    ("natasha", "tasha"),
    ("barbara", "barb"),
    ("kimberly", "kim"),
];

const SURNAME: &[&str] = &[
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "flores",
    "green",
    "adams",
    "nelson",
    "baker",
    "hall",
    "rivera",
    "campbell",
    "mitchell",
    "carter",
    "roberts",
    "chen",
    "wang",
    "li",
    "zhang",
    "liu",
    "kim",
    "park",
    "patel",
    "shah",
    "khan",
    "ali",
    "ivanov",
    "petrov",
    "kowalski",
    "novak",
    "tran",
    "pham",
];

const SYL1: &[&str] = &[
    "al", "bar", "cal", "dor", "el", "fen", "gar", "hal", "is", "jor", "kal", "lin", "mor", "nor",
    "or", "pen", "quin", "ros", "sal", "tor", "ul", "van", "wes", "yar", "zel", "ash", "bel",
    "cor", "dun", "ber", "ha", "ka", "ma", "na", "ra", "sa", "ta", "vo", "mu", "ko",
];
const SYL2: &[&str] = &[
    "an", "ber", "cott", "den", "er", "ford", "gan", "ham", "ing", "kins", "ley", "man", "ner",
    "ton", "ver", "wick", "by", "dale", "field", "land", "mond", "ridge", "son", "well", "wood",
    "ski", "ova", "enko", "ez", "ini", "elli", "ura", "oto", "ashi", "ani", "ovic", "sen", "berg",
    "stein", "holm",
];
const SYL3: &[&str] = &["", "", "", "s", "e", "a", "o", "er", "in", "y"];

const STREET: &[&str] = &[
    "main",
    "oak",
    "pine",
    "maple",
    "cedar",
    "elm",
    "washington",
    "lake",
    "hill",
    "park",
    "view",
    "river",
    "church",
    "high",
    "market",
    "mill",
    "spring",
    "north",
    "south",
    "west",
    "east",
    "sunset",
    "lincoln",
    "jefferson",
    "madison",
    "franklin",
    "jackson",
    "cherry",
    "walnut",
    "willow",
    "highland",
    "forest",
    "meadow",
    "ridge",
    "valley",
    "bay",
    "harbor",
    "union",
    "center",
    "grove",
    "college",
    "station",
    "bridge",
    "king",
    "queen",
    "prospect",
    "summit",
];
const STREET_TYPE: &[(&str, &str)] = &[
    ("street", "st"),
    ("avenue", "ave"),
    ("road", "rd"),
    ("drive", "dr"),
    ("lane", "ln"),
    ("court", "ct"),
    ("place", "pl"),
    ("boulevard", "blvd"),
];
const CITY: &[&str] = &[
    "springfield",
    "riverside",
    "franklin",
    "greenville",
    "bristol",
    "clinton",
    "fairview",
    "salem",
    "madison",
    "georgetown",
    "arlington",
    "ashland",
    "burlington",
    "manchester",
    "milton",
    "newport",
    "oxford",
    "dover",
    "jackson",
    "lexington",
    "marion",
    "auburn",
    "dayton",
    "lebanon",
    "hudson",
    "kingston",
    "chester",
    "monroe",
    "centerville",
    "oakland",
    "winchester",
    "troy",
    "columbia",
    "hamilton",
    "richmond",
    "portland",
    "mount vernon",
    "plymouth",
    "lancaster",
    "bloomington",
    "cleveland",
    "denton",
    "eugene",
    "fresno",
    "houston",
    "irvine",
    "joliet",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    /// Skewed pick: common items come up far more often (roughly Zipf-like).
    fn skewed<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let x = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        items[((x * x * x) * items.len() as f64) as usize % items.len()]
    }
}

#[derive(Clone)]
struct Person {
    first: String,
    surname: String,
    dob: (u32, u32, u32),
    phone: [u8; 10],
    number: u32,
    street: usize,
    street_type: usize,
    city: usize,
    postcode: u32,
}

fn make_person(rng: &mut Rng) -> Person {
    let surname = if rng.chance(0.35) {
        rng.skewed(SURNAME).to_string()
    } else {
        format!(
            "{}{}{}",
            SYL1[rng.below(SYL1.len())],
            SYL2[rng.below(SYL2.len())],
            SYL3[rng.below(SYL3.len())]
        )
    };
    let mut phone = [0u8; 10];
    for (i, d) in phone.iter_mut().enumerate() {
        *d = if i == 0 {
            2 + rng.below(8) as u8
        } else {
            rng.below(10) as u8
        };
    }
    Person {
        first: rng.skewed(FIRST).to_string(),
        surname,
        dob: (
            1940 + rng.below(68) as u32,
            1 + rng.below(12) as u32,
            1 + rng.below(28) as u32,
        ),
        phone,
        number: 1 + rng.below(2000) as u32,
        street: rng.below(STREET.len()),
        street_type: rng.below(STREET_TYPE.len()),
        city: rng.below(CITY.len()),
        postcode: 10_000 + rng.below(89_999) as u32,
    }
}

fn typo(rng: &mut Rng, s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    if c.len() < 2 {
        return s.to_string();
    }
    let i = rng.below(c.len());
    match rng.below(4) {
        0 => c[i] = (b'a' + rng.below(26) as u8) as char,
        1 => {
            c.remove(i);
        }
        2 => c.insert(i, (b'a' + rng.below(26) as u8) as char),
        _ => {
            let j = if i + 1 < c.len() { i + 1 } else { i - 1 };
            c.swap(i, j);
        }
    }
    c.into_iter().collect()
}

fn phone_text(rng: &mut Rng, p: &[u8; 10], style: usize) -> String {
    let d: String = p.iter().map(|x| char::from(b'0' + x)).collect();
    match style {
        0 => format!("{}-{}-{}", &d[..3], &d[3..6], &d[6..]),
        1 => format!("({}) {}-{}", &d[..3], &d[3..6], &d[6..]),
        2 => d,
        3 => format!("+1 {} {} {}", &d[..3], &d[3..6], &d[6..]),
        _ => {
            let _ = rng;
            format!("{}.{}.{}", &d[..3], &d[3..6], &d[6..])
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn write_record(
    out: &mut impl Write,
    rng: &mut Rng,
    id: u64,
    cluster: u64,
    p: &Person,
    dup: bool,
) -> std::io::Result<()> {
    let mut first = p.first.clone();
    let mut surname = p.surname.clone();
    let (mut y, mut m, mut d) = p.dob;
    let mut phone = p.phone;
    let mut phone_style = 0;
    let mut number = p.number;
    let mut street = p.street;
    let (mut long_type, mut upper) = (true, false);
    let mut postcode = p.postcode.to_string();
    let (mut miss_dob, mut miss_phone, mut miss_addr, mut miss_city, mut miss_pc) =
        (false, false, false, false, false);
    if dup {
        if rng.chance(0.15)
            && let Some((_, n)) = NICK.iter().find(|(f, _)| *f == first)
        {
            first = n.to_string();
        }
        if rng.chance(0.2) {
            first = typo(rng, &first);
        }
        if rng.chance(0.2) {
            surname = typo(rng, &surname);
        }
        if rng.chance(0.04) {
            std::mem::swap(&mut first, &mut surname);
        }
        if rng.chance(0.08) {
            d = 1 + (d + rng.below(3) as u32) % 28;
        }
        if rng.chance(0.04) && d <= 12 {
            std::mem::swap(&mut m, &mut d);
        }
        if rng.chance(0.03) {
            y = y + 1 - rng.below(3) as u32;
        }
        miss_dob = rng.chance(0.05);
        phone_style = rng.below(5);
        miss_phone = rng.chance(0.2);
        if rng.chance(0.04) {
            phone[3 + rng.below(7)] = rng.below(10) as u8;
        }
        long_type = rng.chance(0.5);
        upper = rng.chance(0.2);
        if rng.chance(0.1) {
            number = 1 + rng.below(2000) as u32;
            street = rng.below(STREET.len());
        }
        miss_addr = rng.chance(0.1);
        miss_city = rng.chance(0.1);
        miss_pc = rng.chance(0.05);
        if rng.chance(0.05) {
            postcode = typo(rng, &postcode)
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
        }
    }
    let dob = if miss_dob {
        String::new()
    } else if dup && rng.chance(0.3) {
        format!("{d:02}/{m:02}/{y}")
    } else {
        format!("{y}-{m:02}-{d:02}")
    };
    let phone = if miss_phone {
        String::new()
    } else {
        phone_text(rng, &phone, phone_style)
    };
    let (tl, ts) = STREET_TYPE[p.street_type];
    let mut address = if miss_addr {
        String::new()
    } else {
        format!(
            "{number} {} {}",
            capitalise(STREET[street]),
            capitalise(if long_type { tl } else { ts })
        )
    };
    if upper {
        address = address.to_uppercase();
    }
    let city = if miss_city { "" } else { CITY[p.city] };
    let postcode = if miss_pc { String::new() } else { postcode };
    writeln!(
        out,
        "r{id},{},{},{dob},{phone},{address},{},{postcode},{cluster}",
        capitalise(&first),
        capitalise(&surname),
        capitalise(city)
    )
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let mut records = 1_000_000u64;
    let mut seed = 7u64;
    let mut output = String::from("people.csv");
    let mut i = 1;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--records" => {
                records = v
                    .parse()
                    .map_err(|_| std::io::Error::other("--records N"))?
            }
            "--seed" => seed = v.parse().map_err(|_| std::io::Error::other("--seed N"))?,
            "--output" => output = v,
            other => return Err(std::io::Error::other(format!("unknown argument {other}"))),
        }
        i += 2;
    }
    let mut rng = Rng(seed);
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&output)?);
    writeln!(
        out,
        "rec_id,first_name,surname,dob,phone,address,city,postcode,cluster"
    )?;
    let mut written = 0u64;
    let mut entity = 0u64;
    while written < records {
        let p = make_person(&mut rng);
        // About half the entities have duplicates (1 to 4 extra records).
        let copies = if rng.chance(0.5) {
            1
        } else {
            2 + rng.below(4) as u64
        };
        for c in 0..copies.min(records - written) {
            write_record(&mut out, &mut rng, written, entity, &p, c > 0)?;
            written += 1;
        }
        entity += 1;
    }
    out.flush()?;
    eprintln!("wrote {written} records of {entity} people to {output}");
    Ok(())
}
