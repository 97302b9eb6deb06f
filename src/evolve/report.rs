//! `nova evolve report`: the archive drawn as one SVG (the training score of every variant by
//! generation, with the best accepted score so far, and the lineage tree: each variant under its
//! parent, coloured by what became of it), or an HTML page holding it and a table of the
//! variants. No script, nothing fetched.

use std::fmt::Write as _;

use crate::store::VariantRow;

const WIDTH: f64 = 760.0;
const PLOT: f64 = 220.0;
const ROW: f64 = 26.0;
const LEFT: f64 = 60.0;

fn colour(status: &str) -> &'static str {
    match status {
        "root" => "#1f6feb",
        "accepted" => "#2da44e",
        "refused" => "#cf222e",
        "evaluating" => "#bf8700",
        _ => "#8c959f",
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The variants in the order of a walk of the lineage tree (each under its parent), with their
/// depth.
fn tree_order(archive: &[VariantRow]) -> Vec<(&VariantRow, usize)> {
    fn walk<'a>(
        archive: &'a [VariantRow],
        parent: Option<&str>,
        depth: usize,
        out: &mut Vec<(&'a VariantRow, usize)>,
    ) {
        for row in archive.iter().filter(|row| row.parent.as_deref() == parent) {
            out.push((row, depth));
            walk(archive, Some(&row.id), depth + 1, out);
        }
    }
    let mut out = Vec::new();
    walk(archive, None, 0, &mut out);
    // A variant whose parent is not in the archive still shows, at the top level.
    for row in archive {
        if !out.iter().any(|(seen, _)| seen.id == row.id) {
            out.push((row, 0));
        }
    }
    out
}

/// The archive as one SVG document.
pub fn svg(archive: &[VariantRow]) -> String {
    let order = tree_order(archive);
    let generations = archive
        .iter()
        .map(|row| row.generation)
        .max()
        .unwrap_or(0)
        .max(1);
    let x = |generation: u32| {
        LEFT + f64::from(generation) / f64::from(generations) * (WIDTH - LEFT - 40.0)
    };
    let y = |score: f64| 30.0 + (1.0 - score) * PLOT;
    let tree_top = PLOT + 90.0;
    let height = tree_top + ROW * order.len() as f64 + 20.0;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n\
         <text x=\"{LEFT}\" y=\"18\" font-weight=\"bold\">Training score by generation</text>\n"
    );
    for tick in [0.0, 0.5, 1.0] {
        let _ = writeln!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#d0d7de\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{tick:.1}</text>",
            WIDTH - 40.0,
            LEFT - 6.0,
            y(tick) + 4.0,
            y = y(tick)
        );
    }
    // The best score among the root and accepted variants up to each generation.
    let mut best: Option<f64> = None;
    let mut points = Vec::new();
    for generation in 0..=generations {
        for row in archive.iter().filter(|row| row.generation == generation) {
            if matches!(row.status.as_str(), "root" | "accepted")
                && let Some(score) = row.score
            {
                best = Some(best.map_or(score, |b: f64| b.max(score)));
            }
        }
        if let Some(best) = best {
            points.push(format!("{:.1},{:.1}", x(generation), y(best)));
        }
    }
    let _ = writeln!(
        out,
        "<polyline fill=\"none\" stroke=\"#2da44e\" stroke-width=\"2\" points=\"{}\"/>",
        points.join(" ")
    );
    for row in archive {
        let Some(score) = row.score else { continue };
        let _ = writeln!(
            out,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"{}\"><title>{} ({}): {:.2} on {} \
             tasks</title></circle>",
            x(row.generation),
            y(score),
            colour(&row.status),
            escape(&row.id),
            escape(&row.status),
            score,
            row.tasks
        );
    }
    lineage(&mut out, &order, tree_top);
    out.push_str("</svg>\n");
    out
}

/// The lineage tree, from `top` down: each variant under its parent.
fn lineage(out: &mut String, order: &[(&VariantRow, usize)], tree_top: f64) {
    let _ = writeln!(
        *out,
        "<text x=\"{LEFT}\" y=\"{}\" font-weight=\"bold\">Lineage</text>",
        tree_top - 14.0
    );
    let place: Vec<(&str, f64, f64)> = order
        .iter()
        .enumerate()
        .map(|(at, (row, depth))| {
            (
                row.id.as_str(),
                LEFT + *depth as f64 * 28.0,
                tree_top + at as f64 * ROW,
            )
        })
        .collect();
    for (at, (row, _)) in order.iter().enumerate() {
        let (_, cx, cy) = place[at];
        if let Some((_, px, py)) = place
            .iter()
            .find(|(id, _, _)| Some(*id) == row.parent.as_deref())
        {
            let _ = writeln!(
                *out,
                "<path d=\"M{px:.1},{py:.1} V{cy:.1} H{cx:.1}\" fill=\"none\" stroke=\"#8c959f\"/>"
            );
        }
        let score = row.score.map(|s| format!(" {s:.2}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"6\" fill=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{} {}{score}: {}</text>",
            colour(&row.status),
            cx + 12.0,
            cy + 4.0,
            escape(&row.id),
            escape(&row.status),
            escape(&row.change)
        );
    }
}

/// The archive as one HTML page: the drawing and a table of every variant.
pub fn html(archive: &[VariantRow]) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>nova evolve</title>\n<style>body{font-family:sans-serif;margin:2em}\
         td,th{padding:2px 8px;text-align:left}</style></head><body>\n<h1>nova evolve</h1>\n",
    );
    out.push_str(&svg(archive));
    out.push_str(
        "<table>\n<tr><th>variant</th><th>parent</th><th>generation</th><th>status</th>\
         <th>score</th><th>tasks</th><th>change</th></tr>\n",
    );
    for row in archive {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&row.id),
            escape(row.parent.as_deref().unwrap_or("")),
            row.generation,
            escape(&row.status),
            row.score.map(|s| format!("{s:.2}")).unwrap_or_default(),
            row.tasks,
            escape(&row.change)
        );
    }
    out.push_str("</table>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        id: &str,
        parent: Option<&str>,
        generation: u32,
        status: &str,
        score: f64,
    ) -> VariantRow {
        VariantRow {
            evaluator: String::from("e"),
            id: id.to_owned(),
            parent: parent.map(str::to_owned),
            generation,
            change: format!("change <{id}>"),
            status: status.to_owned(),
            score: Some(score),
            tasks: 6,
            decision: None,
            created: 0,
        }
    }

    #[test]
    fn the_drawing_has_every_variant_under_its_parent_and_escapes_text() {
        let archive = vec![
            row("g0", None, 0, "root", 0.0),
            row("g1", Some("g0"), 1, "rejected", 0.0),
            row("g2", Some("g0"), 2, "accepted", 1.0),
            row("g3", Some("g2"), 3, "refused", 0.5),
        ];
        let order: Vec<&str> = tree_order(&archive)
            .iter()
            .map(|(r, _)| r.id.as_str())
            .collect();
        assert_eq!(order, ["g0", "g1", "g2", "g3"]);
        assert_eq!(tree_order(&archive)[3].1, 2, "g3 is two below the root");
        let svg = svg(&archive);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<path").count(), 3, "one edge per child");
        assert!(svg.contains("change &lt;g3&gt;") && !svg.contains("change <g3>"));
        // The best-so-far line rises at generation 2, to the accepted variant's score.
        assert!(svg.contains("points=\"60.0,250.0 "), "{svg}");
        let html = html(&archive);
        assert!(
            html.contains("<table>") && html.contains("<td>g3</td>") && !html.contains("<script")
        );
    }
}
