//! A component drawn as SVG by the server: its cases on a circle (in case-number order, so the
//! drawing is the same every time), joined by a line for each pair of cases that share a person, a
//! phone, a business or an address, with an accessible title and description.

use std::fmt::Write as _;

/// A case in the drawing.
#[derive(Debug, Clone)]
pub struct Node {
    /// Its label (the case number).
    pub label: String,
    /// Where the node links to, if the viewer may open the case.
    pub href: Option<String>,
}

/// A line between two cases.
#[derive(Debug, Clone)]
pub struct Edge {
    /// Index of one case.
    pub a: usize,
    /// Index of the other.
    pub b: usize,
    /// What they share ("same phone, similar name").
    pub label: String,
    /// The strongest link's probability, which sets the line's width.
    pub probability: f64,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The positions of `n` nodes on a circle of radius `r` around `(c, c)`, the first at the top.
pub fn circle(n: usize, c: f64, r: f64) -> Vec<(f64, f64)> {
    if n == 1 {
        return vec![(c, c)];
    }
    (0..n)
        .map(|i| {
            let t = std::f64::consts::TAU * i as f64 / n as f64 - std::f64::consts::FRAC_PI_2;
            (c + r * t.cos(), c + r * t.sin())
        })
        .collect()
}

/// The SVG of a component.
pub fn svg(title: &str, desc: &str, nodes: &[Node], edges: &[Edge]) -> String {
    let size = 420.0;
    let pos = circle(nodes.len(), size / 2.0, size / 2.0 - 50.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="{size}" height="{size}" role="img" aria-labelledby="graph-title graph-desc" class="network"><title id="graph-title">{}</title><desc id="graph-desc">{}</desc>"#,
        esc(title),
        esc(desc)
    );
    for e in edges {
        let ((x1, y1), (x2, y2)) = (pos[e.a], pos[e.b]);
        let w = 1.0 + 4.0 * e.probability.clamp(0.0, 1.0);
        let _ = write!(
            s,
            r##"<g class="edge"><title>Case {} and case {}: {}</title><line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="#5a6b7b" stroke-width="{w:.1}"/></g>"##,
            esc(&nodes[e.a].label),
            esc(&nodes[e.b].label),
            esc(&e.label)
        );
    }
    for (n, (x, y)) in nodes.iter().zip(&pos) {
        let circle = format!(
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="24" fill="#fff8e1" stroke="#8a5a00" stroke-width="2"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="13" font-family="sans-serif">{}</text>"##,
            y + 4.5,
            esc(&n.label)
        );
        match &n.href {
            Some(h) => {
                let _ = write!(
                    s,
                    r#"<a href="{}"><title>Case {}</title>{circle}</a>"#,
                    esc(h),
                    esc(&n.label)
                );
            }
            None => {
                let _ = write!(s, r#"<g><title>Case {}</title>{circle}</g>"#, esc(&n.label));
            }
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drawing_is_deterministic_titled_and_escaped() {
        let nodes: Vec<Node> = (1..=3)
            .map(|i| Node {
                label: format!("#{i}"),
                href: None,
            })
            .collect();
        let edges = [Edge {
            a: 0,
            b: 2,
            label: "same phone & <similar name>".into(),
            probability: 0.99,
        }];
        let a = svg("Network of 3 cases", "Cases #1, #2, #3", &nodes, &edges);
        assert_eq!(
            a,
            svg("Network of 3 cases", "Cases #1, #2, #3", &nodes, &edges)
        );
        assert!(a.contains(r#"<title id="graph-title">Network of 3 cases</title>"#));
        assert!(a.contains("same phone &amp; &lt;similar name&gt;"));
        assert_eq!(a.matches("<circle").count(), 3);
        assert_eq!(a.matches("<line").count(), 1);
    }

    #[test]
    fn nodes_sit_on_the_circle_the_first_at_the_top() {
        let p = circle(4, 100.0, 50.0);
        assert!((p[0].0 - 100.0).abs() < 1e-9 && (p[0].1 - 50.0).abs() < 1e-9);
        for (x, y) in p {
            assert!(((x - 100.0).hypot(y - 100.0) - 50.0).abs() < 1e-9);
        }
    }
}
