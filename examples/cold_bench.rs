// Temporary (not committed): cold vs warm cost of detector and per-pattern regexes on new text.
use std::time::Instant;
fn main() {
    let norms: Vec<_> = std::fs::read_to_string("/tmp/adscreen-compare/speed/NEW.jsonl")
        .unwrap()
        .lines()
        .take(4000)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            adscreen::normalize::normalize(v["text"].as_str().unwrap())
        })
        .collect();
    let dets = [
        (
            "time_range",
            r"\b(1[0-2]|0?[1-9])(?::([0-5]\d))? ?(am|pm|a\.m\.|p\.m\.) ?(?:-|–|to|till|until) ?(1[0-2]|0?[1-9])(?::([0-5]\d))? ?(am|pm|a\.m\.|p\.m\.)",
            false,
        ),
        (
            "job_context",
            r"\b(?:hiring|wanted|needed|vacanc(?:y|ies)|jobs?|recruit(?:ing|ment)?|salary|wages?|workers|staff|employment|apply|positions?|work|contract|experience)\b",
            false,
        ),
        (
            "org_folded",
            r"(?x)\b(?:ltd|llc|l\.l\.c|inc|plc|gmbh|pty|corp|pvt|limited|llp|s\.a|b\.v|sdn\ bhd|co\.)\b
                  |\b\d{1,5}\ [a-z]+(?:\ [a-z]+)?\ (?:st|street|rd|road|ave|avenue|blvd|boulevard|lane|ln|drive|dr|way|highway|hwy|place|pl|square|sq|parkway|pkwy|court|ct)\b
                  |@(?:[a-z0-9\-]+\.)+[a-z]{2,}
                  |\b(?:https?://|www\.)?[a-z0-9\-]{3,}\.(?:com|org|net|co\.uk|example|gov|edu|ac\.uk|nhs\.uk|ca|com\.au|de|ie|in|co\.za|ph|sg|ae)(?:/|\b)
                  |\b(?:license|licence|registration|reg\.?)\ (?:no\.?|number|\#)\ ?[a-z0-9\-]{4,}",
            true,
        ),
    ];
    for (name, p, folded) in dets {
        let re = regex::bytes::RegexBuilder::new(p)
            .unicode(false)
            .size_limit(1 << 24)
            .build()
            .unwrap();
        let mut line = format!("{name:12}: ");
        for pass in 0..2 {
            let t = Instant::now();
            let mut n = 0;
            for x in &norms {
                let h = if folded { x.folded() } else { x.text() };
                n += re.captures_iter(h.as_bytes()).count();
            }
            line += &format!(
                "pass {pass} {:.1} us/ad ({n})  ",
                t.elapsed().as_secs_f64() * 1e6 / norms.len() as f64
            );
        }
        println!("{line}");
    }
    // per-pattern regexes: find_iter for each pattern the set reports
    let cat: toml::Value = toml::from_str(adscreen::indicators::BUILTIN_CATALOGUE).unwrap();
    let mut pats: Vec<String> = Vec::new();
    for i in cat["indicator"].as_array().unwrap() {
        if let Some(p) = i.get("patterns") {
            for x in p.as_array().unwrap() {
                pats.push(x.as_str().unwrap().to_string());
            }
        }
    }
    let set = regex::bytes::RegexSetBuilder::new(&pats)
        .unicode(false)
        .size_limit(1 << 26)
        .dfa_size_limit(1 << 28)
        .build()
        .unwrap();
    let matched: Vec<Vec<usize>> = norms
        .iter()
        .map(|x| set.matches(x.text().as_bytes()).iter().collect())
        .collect();
    let res: Vec<regex::bytes::Regex> = pats
        .iter()
        .map(|p| {
            regex::bytes::RegexBuilder::new(p)
                .unicode(false)
                .size_limit(1 << 24)
                .build()
                .unwrap()
        })
        .collect();
    let mut line = String::from("per-pattern : ");
    for pass in 0..2 {
        let t = Instant::now();
        let mut n = 0;
        for (x, m) in norms.iter().zip(&matched) {
            for &p in m {
                n += res[p].find_iter(x.text().as_bytes()).count();
            }
        }
        line += &format!(
            "pass {pass} {:.1} us/ad ({n})  ",
            t.elapsed().as_secs_f64() * 1e6 / norms.len() as f64
        );
    }
    println!("{line}");
    let total: usize = matched.iter().map(|m| m.len()).sum();
    println!(
        "matched patterns per ad: {:.2}",
        total as f64 / norms.len() as f64
    );
    let origs: Vec<String> = std::fs::read_to_string("/tmp/adscreen-compare/speed/NEW.jsonl")
        .unwrap()
        .lines()
        .take(4000)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["text"].as_str().unwrap().to_string()
        })
        .collect();
    let non_ascii = origs.iter().filter(|o| !o.is_ascii()).count();
    let org = r"(?m)^[^\n]{3,80} (?:-|–|—|\||@|at) (?:The )?[A-Z][A-Za-z&'\-]+(?: [A-Z][A-Za-z&'\-]+)*(?:,|$)|(?:^|[^\w])[A-Z][A-Za-z&'\-]+(?: (?:[A-Z][A-Za-z&'\-]+|of|and|&))* (?:Inn|Pub|Freight|Steel|Hospital|School|University|College|Council|Clinic|Hotel|Restaurant|Bank|Farms?|Resort|Group|Foundation|Trust|Centre|Center|Academy|Services|Solutions|Systems|Technologies|Industries|Construction|Logistics|Agency|Grocers|Daycare|Store|Stores|Company|Corporation|Partners|Associates|Institute|Authority|Ministry|Department|Museum|Library|Church|Society|Association|Cooperative|Co-op|Bakery|Cafe|Café|Pharmacy|Dental|Medical|Health|Healthcare|Care|Studios?|Labs?|Motors|Airlines?|Airways|Shipping|Mining|Energy|Foods?|Brewery|Winery|Market|Supermarket|Mall|Salon|Spa|Gym|Fitness)(?:[^\w]|$)";
    for lim in [2usize << 20, 1 << 26] {
        let re = regex::bytes::RegexBuilder::new(org)
            .size_limit(1 << 24)
            .dfa_size_limit(lim)
            .build()
            .unwrap();
        let mut line = format!(
            "org unicode (dfa {} MiB) on {non_ascii} non-ASCII ads: ",
            lim >> 20
        );
        for pass in 0..2 {
            let t = Instant::now();
            let mut n = 0;
            for o in origs.iter().filter(|o| !o.is_ascii()) {
                n += re.is_match(o.as_bytes()) as usize;
            }
            line += &format!(
                "pass {pass} {:.1} us/ad ({n})  ",
                t.elapsed().as_secs_f64() * 1e6 / non_ascii.max(1) as f64
            );
        }
        println!("{line}");
    }
}
#[allow(dead_code)]
fn unused() {}
