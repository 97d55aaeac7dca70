//! Reading a server's `GET /metrics` in tests.

use std::collections::BTreeMap;

use super::device::Api;

/// `name{labels}` → value of every sample line.
pub fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap();
            (name.to_owned(), value.parse::<f64>().unwrap())
        })
        .collect()
}

pub async fn scrape(base: &str) -> BTreeMap<String, f64> {
    let api = Api::new(base.to_owned());
    let response = api
        .http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    samples(&response.text().await.unwrap())
}

pub fn at(m: &BTreeMap<String, f64>, key: &str) -> f64 {
    m.get(key).copied().unwrap_or(0.0)
}
